package io.gputelemetry.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.bertramlabs.plugins.hcl4j.HCLParser;
import io.gputelemetry.support.RequiredTool;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The Terraform configuration parses, documents every variable, validates the instance sizing
 * variables, opens SSH and the K3s API to the admin CIDR only, and exports what the Makefile reads.
 */
class TerraformTest {

  static final Path TF = Paths.get("terraform");
  static final List<String> MAKEFILE_OUTPUTS =
      List.of(
          "server_public_ip",
          "server_private_ip",
          "agent_public_ips",
          "agent_private_ips",
          "ssh_user");

  static final Map<String, Map<String, Object>> FILES = new LinkedHashMap<>();
  static final Map<String, Map<String, Object>> VARIABLES = new LinkedHashMap<>();
  static final Map<String, Map<String, Object>> OUTPUTS = new LinkedHashMap<>();
  static final Map<String, Map<String, Object>> RESOURCES = new LinkedHashMap<>();

  @BeforeAll
  static void parseEveryFile() throws Exception {
    List<Path> files;
    try (Stream<Path> s = Files.list(TF)) {
      files = s.filter(p -> p.toString().endsWith(".tf")).sorted().collect(Collectors.toList());
    }
    assertFalse(files.isEmpty(), "no terraform/*.tf files");
    for (Path f : files) {
      Map<String, Object> parsed;
      try {
        parsed = new HCLParser().parse(f.toFile(), StandardCharsets.UTF_8.name());
      } catch (Exception e) {
        throw new AssertionError(f + " does not parse: " + e.getMessage(), e);
      }
      FILES.put(f.getFileName().toString(), parsed);
      collect(parsed, "variable", VARIABLES, f);
      collect(parsed, "output", OUTPUTS, f);
      Map<String, Object> resources = block(parsed.get("resource"));
      for (Map.Entry<String, Object> type : resources.entrySet()) {
        for (Map.Entry<String, Object> r : block(type.getValue()).entrySet()) {
          RESOURCES.put(type.getKey() + "." + r.getKey(), block(r.getValue()));
        }
      }
    }
  }

  private static void collect(
      Map<String, Object> parsed, String kind, Map<String, Map<String, Object>> into, Path file) {
    for (Map.Entry<String, Object> e : block(parsed.get(kind)).entrySet()) {
      assertTrue(
          into.put(e.getKey(), block(e.getValue())) == null,
          kind + " " + e.getKey() + " declared twice (" + file + ")");
    }
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> block(Object o) {
    return o == null ? Map.of() : (Map<String, Object>) o;
  }

  /** Nested blocks come back as a map when there is one, as a list when there are several. */
  @SuppressWarnings("unchecked")
  static List<Map<String, Object>> blocks(Object o) {
    if (o == null) {
      return List.of();
    }
    if (o instanceof List<?> l) {
      return (List<Map<String, Object>>) l;
    }
    return List.of((Map<String, Object>) o);
  }

  @Test
  void theExpectedFilesExist() {
    for (String f : List.of("versions.tf", "variables.tf", "outputs.tf")) {
      assertTrue(FILES.containsKey(f), f + " is missing");
    }
    assertTrue(
        Files.exists(TF.resolve("terraform.tfvars.example")),
        "terraform.tfvars.example is missing");
  }

  @Test
  void versionsPinTerraformAndTheAwsProvider() {
    Map<String, Object> terraform = block(FILES.get("versions.tf").get("terraform"));
    assertNotNull(terraform.get("required_version"), "required_version");
    Map<String, Object> aws = block(block(terraform.get("required_providers")).get("aws"));
    assertEquals("hashicorp/aws", aws.get("source"));
    assertTrue(
        String.valueOf(aws.get("version")).startsWith("~>"),
        "the AWS provider is pinned to a major version");
  }

  @Test
  void everyVariableHasADescriptionAndAType() {
    assertFalse(VARIABLES.isEmpty());
    List<String> missing = new ArrayList<>();
    VARIABLES.forEach(
        (name, v) -> {
          Object d = v.get("description");
          if (d == null || d.toString().isBlank()) {
            missing.add(name + " (description)");
          }
          if (v.get("type") == null) {
            missing.add(name + " (type)");
          }
        });
    assertTrue(missing.isEmpty(), "variables lacking: " + missing);
  }

  @Test
  void instanceCountAndTypeVariablesAreValidated() {
    Set<String> sizing =
        VARIABLES.keySet().stream()
            .filter(n -> n.endsWith("instance_type") || n.endsWith("_count"))
            .collect(Collectors.toCollection(TreeSet::new));
    assertTrue(
        sizing.containsAll(Set.of("server_instance_type", "agent_instance_type", "agent_count")),
        "have " + sizing);
    for (String name : sizing) {
      List<Map<String, Object>> validations = blocks(VARIABLES.get(name).get("validation"));
      assertFalse(validations.isEmpty(), name + " has no validation block");
      for (Map<String, Object> v : validations) {
        assertTrue(v.containsKey("condition"), name + ": validation without condition");
        assertFalse(
            String.valueOf(v.get("error_message")).isBlank(),
            name + ": validation without error_message");
      }
    }
    for (String name : List.of("admin_cidr", "ssh_public_key")) {
      assertFalse(
          blocks(VARIABLES.get(name).get("validation")).isEmpty(),
          name + " has no validation block");
      assertFalse(
          VARIABLES.get(name).containsKey("default"),
          name + " must be given explicitly (no default)");
    }
  }

  @Test
  void outputsTheMakefileReadsExistAndAreDescribed() throws IOException {
    Set<String> read = new TreeSet<>(MAKEFILE_OUTPUTS);
    Path makefile = Paths.get("Makefile");
    if (Files.exists(makefile)) {
      Matcher m =
          Pattern.compile("output\\s+-(?:raw|json)\\s+([a-z0-9_]+)")
              .matcher(Files.readString(makefile));
      while (m.find()) {
        read.add(m.group(1));
      }
    }
    for (String name : read) {
      assertTrue(
          OUTPUTS.containsKey(name),
          "output " + name + " (read by the Makefile) is missing; have " + OUTPUTS.keySet());
      assertFalse(
          String.valueOf(OUTPUTS.get(name).get("description")).isBlank(), name + ": description");
      assertNotNull(OUTPUTS.get(name).get("value"), name + ": value");
    }
  }

  @Test
  void sshAndTheK3sApiAreOpenOnlyToTheAdminCidr() {
    Map<Integer, String> adminPorts = Map.of(22, "ssh", 6443, "k3s api");
    List<Map<String, Object>> ingress =
        RESOURCES.entrySet().stream()
            .filter(e -> e.getKey().startsWith("aws_vpc_security_group_ingress_rule."))
            .map(Map.Entry::getValue)
            .toList();
    assertFalse(ingress.isEmpty(), "no ingress rules");
    Set<Integer> adminOpened = new TreeSet<>();
    for (Map<String, Object> rule : ingress) {
      Object from = rule.get("from_port");
      Object to = rule.get("to_port");
      String cidr = String.valueOf(rule.get("cidr_ipv4"));
      assertFalse(cidr.equals("0.0.0.0/0"), "ingress open to the world: " + rule);
      if (from == null) {
        assertNotNull(
            rule.get("referenced_security_group_id"),
            "all-port ingress only from the cluster itself: " + rule);
        continue;
      }
      int lo = ((Number) from).intValue();
      int hi = ((Number) to).intValue();
      for (int port : adminPorts.keySet()) {
        if (lo <= port && port <= hi) {
          assertEquals(
              "var.admin_cidr",
              cidr,
              adminPorts.get(port) + " must be limited to var.admin_cidr: " + rule);
          adminOpened.add(port);
        }
      }
    }
    assertEquals(
        adminPorts.keySet(), adminOpened, "SSH and the K3s API are reachable from the admin CIDR");
  }

  @Test
  void tfvarsExampleSetsOnlyDeclaredVariablesAndEveryRequiredOne() throws Exception {
    Map<String, Object> example =
        new HCLParser().parse(new File(TF.resolve("terraform.tfvars.example").toString()), "UTF-8");
    for (String key : example.keySet()) {
      assertTrue(VARIABLES.containsKey(key), "terraform.tfvars.example sets undeclared " + key);
    }
    VARIABLES.forEach(
        (name, v) -> {
          if (!v.containsKey("default")) {
            assertTrue(
                example.containsKey(name), "terraform.tfvars.example lacks required " + name);
          }
        });
  }

  @Test
  void aNewerAmiNeverReplacesTheInstances() {
    for (String instance : List.of("aws_instance.server", "aws_instance.agent")) {
      Map<String, Object> resource = RESOURCES.get(instance);
      assertNotNull(resource, instance + " is missing");
      List<Map<String, Object>> lifecycle = blocks(resource.get("lifecycle"));
      assertEquals(1, lifecycle.size(), instance + ": one lifecycle block");
      String ignored = String.valueOf(lifecycle.get(0).get("ignore_changes"));
      assertTrue(
          ignored.matches(".*\\bami\\b.*"),
          instance + ": lifecycle.ignore_changes must list ami, is " + ignored);
    }
  }

  @Test
  void theAmiFollowsTheArchitectureAndEachInstanceTypeIsCheckedAgainstIt() throws IOException {
    Map<String, Object> arch = VARIABLES.get("architecture");
    assertNotNull(arch, "variable architecture");
    assertEquals("x86_64", arch.get("default"));
    assertFalse(blocks(arch.get("validation")).isEmpty(), "architecture is validated");
    // hcl4j evaluates conditions it can (to true here): read this one from the source.
    String variables = Files.readString(TF.resolve("variables.tf"));
    assertTrue(
        variables.contains("condition     = contains([\"x86_64\", \"arm64\"], var.architecture)"),
        "architecture limited to x86_64 and arm64");

    String instances = Files.readString(TF.resolve("instances.tf"));
    assertTrue(
        instances.contains("ubuntu-noble-24.04-${local.ubuntu_arch}-server-*"),
        "the AMI name filter follows the architecture (no fixed amd64)");
    assertFalse(instances.contains("-amd64-server-*"), "no fixed amd64 AMI filter");
    Map<String, Object> dataSources = block(FILES.get("instances.tf").get("data"));
    assertTrue(
        block(dataSources.get("aws_ec2_instance_type"))
            .keySet()
            .containsAll(Set.of("server", "agent")),
        "each instance type is looked up for its supported architectures");
    for (String role : List.of("server", "agent")) {
      // hcl4j evaluates preconditions to null: read them from the resource's source.
      String source = resourceSource(instances, "aws_instance", role);
      assertTrue(
          source.contains(
              "condition     = contains(data.aws_ec2_instance_type."
                  + role
                  + ".supported_architectures, data.aws_ami.selected.architecture)"),
          "aws_instance."
              + role
              + ": a precondition compares the instance type's architectures"
              + " with the AMI's:\n"
              + source);
    }
  }

  /** The text of resource TYPE NAME, from its opening line to its closing brace. */
  static String resourceSource(String file, String type, String name) {
    int start = file.indexOf("resource \"" + type + "\" \"" + name + "\" {");
    assertTrue(start >= 0, "resource " + type + "." + name + " not found");
    int depth = 0;
    for (int i = file.indexOf('{', start); i < file.length(); i++) {
      char c = file.charAt(i);
      if (c == '{') {
        depth++;
      } else if (c == '}' && --depth == 0) {
        return file.substring(start, i + 1);
      }
    }
    throw new AssertionError("unbalanced braces in resource " + type + "." + name);
  }

  @Test
  void formattingIsCanonical() throws Exception {
    // Debian does not package Terraform and the test command cannot download it: skipped with a
    // warning where it is missing, CI or not (the structure tests above need no binary).
    RequiredTool.optional(
        "terraform",
        "a binary from https://releases.hashicorp.com/terraform/ on the PATH"
            + " (unzip terraform_*_linux_amd64.zip -d /usr/local/bin)");
    Process p =
        new ProcessBuilder("terraform", "fmt", "-check", "-recursive", "-diff", TF.toString())
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "terraform fmt timed out");
    assertEquals(0, p.exitValue(), "terraform fmt -check -recursive terraform:\n" + out);
  }
}
