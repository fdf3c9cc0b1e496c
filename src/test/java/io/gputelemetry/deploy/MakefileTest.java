package io.gputelemetry.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.marcnuri.helm.Helm;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Makefile's targets run against fake {@code ssh}, {@code terraform}, {@code helm}, {@code
 * kubectl} and {@code docker} executables that record their arguments and fail on demand: what a
 * wrong key, a missing Terraform state, a missing Secret or a values file do to a real install.
 */
class MakefileTest {
  static final Path REPO = Paths.get("").toAbsolutePath();
  static final String SERVER_IP = "203.0.113.7";

  /** One script for every fake tool: it logs "tool args..." and acts on FAKE_* variables. */
  static final String FAKE =
      """
      #!/usr/bin/env bash
      tool=$(basename "$0")
      echo "$tool $*" >> "$FAKE_LOG"
      case "$tool" in
        terraform)
          if [ "${FAKE_TF_NOSTATE:-}" = 1 ]; then
            # What terraform output prints, on stdout with exit code 0, before any apply.
            printf '\\n│ Warning: No outputs found\\n│\\n│ The state file either has no outputs defined, or all the defined outputs are empty.\\n'
            exit 0
          fi
          case "$*" in
            *"output -raw server_public_ip") echo -n "203.0.113.7" ;;
            *"output -raw server_private_ip") echo -n "10.20.1.5" ;;
            *"output -raw ssh_user") echo -n "ubuntu" ;;
            *"output -json agent_public_ips") echo '["203.0.113.8"]' ;;
          esac ;;
        ssh)
          if [ "${FAKE_SSH_FAIL:-}" = 1 ]; then
            echo "ubuntu@203.0.113.7: Permission denied (publickey)." >&2
            exit 255
          fi
          case "$*" in
            *k3s.yaml*) printf 'clusters:\\n- cluster:\\n    server: https://127.0.0.1:6443\\n' ;;
            *node-token*) echo "K10token" ;;
          esac
          cat > /dev/null ;;
        kubectl)
          case "$*" in
            *"create namespace"*) echo "apiVersion: v1" ;;
            *"apply -f -"*) cat > /dev/null ;;
            *"get secret"*)
              name=$(sed -E 's/.*get secret ([^ ]+).*/\\1/' <<<"$*")
              [[ " ${FAKE_SECRETS:-} " == *" $name "* ]] || exit 1
              [[ "$*" == *jsonpath* ]] && echo -n "c2VjcmV0"
              exit 0 ;;
            *"get service"*)
              name=$(sed -E 's/.*get service ([^ ]+).*/\\1/' <<<"$*")
              [[ " ${FAKE_SERVICES:-} " == *" $name "* ]] || exit 1 ;;
          esac ;;
        helm)
          case "$1" in
            template) cat "$FAKE_HELM_TEMPLATE" ;;
          esac ;;
      esac
      exit 0
      """;

  @TempDir Path tmp;
  Path bin;
  Path log;

  @BeforeEach
  void fakeTools() throws IOException {
    bin = Files.createDirectories(tmp.resolve("bin"));
    for (String tool : List.of("ssh", "terraform", "helm", "kubectl", "docker")) {
      Path p = bin.resolve(tool);
      Files.writeString(p, FAKE.stripIndent());
      Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
    }
    log = tmp.resolve("calls.log");
    Files.writeString(log, "");
  }

  record Run(int exit, String out, String err, List<String> calls) {
    List<String> calls(String tool) {
      return calls.stream().filter(c -> c.startsWith(tool + " ")).toList();
    }
  }

  Run make(Map<String, String> env, String... args) throws Exception {
    List<String> cmd =
        new ArrayList<>(List.of("make", "--no-print-directory", "-C", REPO.toString()));
    cmd.add("KUBECONFIG=" + tmp.resolve("kubeconfig"));
    cmd.add("KUBECONFIG_OUT=" + tmp.resolve("kubeconfig"));
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().put("PATH", bin + ":/usr/bin:/bin");
    pb.environment().put("HOME", tmp.toString());
    pb.environment().put("FAKE_LOG", log.toString());
    pb.environment().remove("KUBECONFIG");
    pb.environment().putAll(env);
    pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
    pb.redirectOutput(tmp.resolve("out.txt").toFile());
    pb.redirectError(tmp.resolve("err.txt").toFile());
    Process p = pb.start();
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
      throw new AssertionError("make " + List.of(args) + " did not finish within 60 s");
    }
    return new Run(
        p.exitValue(),
        Files.readString(tmp.resolve("out.txt")),
        Files.readString(tmp.resolve("err.txt")),
        Files.readAllLines(log));
  }

  // ---------------------------------------------------------------- K3s over SSH

  @Test
  void bootstrapStopsWaitingForSshAfterItsTimeoutAndShowsSshsError() throws Exception {
    long t0 = System.nanoTime();
    Run run =
        make(
            Map.of("FAKE_SSH_FAIL", "1"),
            "bootstrap-k3s",
            "SSH_WAIT_SECONDS=2",
            "SSH_RETRY_SECONDS=1");
    long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0);
    assertNotEquals(0, run.exit(), "a wrong key must fail the target");
    assertTrue(seconds < 30, "gave up after " + seconds + " s");
    assertTrue(run.err().contains("no SSH to ubuntu@" + SERVER_IP + " after 2s"), run.err());
    assertTrue(
        run.err().contains("Permission denied (publickey)"),
        "ssh's own error is shown: " + run.err());
    assertTrue(run.err().contains("check SSH_KEY"), run.err());
    assertTrue(run.calls("ssh").size() >= 2, "retried: " + run.calls());
    assertTrue(
        run.calls("ssh").stream().allMatch(c -> c.endsWith(" true")),
        "nothing installed without SSH: " + run.calls("ssh"));
  }

  @Test
  void withoutTerraformStateBootstrapAndJoinStopWithWhatToDo() throws Exception {
    for (String target : List.of("bootstrap-k3s", "join-workers")) {
      Files.writeString(log, "");
      Run run = make(Map.of("FAKE_TF_NOSTATE", "1"), target);
      assertNotEquals(0, run.exit(), target);
      assertTrue(
          run.err().contains("no usable Terraform output 'server_public_ip'")
              && run.err().contains("run 'make tf-apply' first"),
          target + ": " + run.err());
      assertTrue(
          run.calls("ssh").isEmpty(), target + ": the warning became an address: " + run.calls());
    }
  }

  @Test
  void bootstrapInstallsASupportedK3sWithSecretsEncryptionAndWritesTheKubeconfig()
      throws Exception {
    Run run = make(Map.of(), "bootstrap-k3s");
    assertEquals(0, run.exit(), run.err());
    String install =
        run.calls("ssh").stream()
            .filter(c -> c.contains("get.k3s.io"))
            .findFirst()
            .orElseThrow(() -> new AssertionError("no install: " + run.calls()));
    Matcher version =
        Pattern.compile("INSTALL_K3S_VERSION='v1\\.(\\d+)\\.\\d+\\+k3s\\d+'").matcher(install);
    assertTrue(version.find(), install);
    assertTrue(
        Integer.parseInt(version.group(1)) >= 34,
        "K3s on a Kubernetes minor inside its upstream support window: " + install);
    assertTrue(install.contains("--secrets-encryption"), "Secrets encrypted at rest: " + install);
    assertTrue(install.contains("--tls-san " + SERVER_IP), install);
    assertTrue(
        Files.readString(tmp.resolve("kubeconfig")).contains("https://" + SERVER_IP + ":6443"),
        "the kubeconfig points at the server's public address");
  }

  // ---------------------------------------------------------------- deploy

  Path rendered(Path values) throws IOException {
    var template =
        new Helm(HelmChartTest.CHART)
            .template()
            .withName("gpu-telemetry")
            .withNamespace("gpu-telemetry");
    if (values != null) {
      template = template.withValuesFile(values);
    }
    Path out = tmp.resolve("rendered.yaml");
    Files.writeString(out, template.call());
    return out;
  }

  static final String PRODUCTION_SECRETS =
      "gpu-telemetry-kafka gpu-telemetry-kafka-ca gpu-telemetry-mongodb gpu-telemetry-ingest";

  @Test
  void deployWithAValuesFileKeepsItsImageUnlessImageVariablesAreGiven() throws Exception {
    Map<String, String> env =
        Map.of(
            "FAKE_HELM_TEMPLATE",
            rendered(HelmChartTest.PRODUCTION).toString(),
            "FAKE_SECRETS",
            PRODUCTION_SECRETS);
    Run run = make(env, "deploy", "VALUES=charts/gpu-telemetry/values-production.yaml");
    assertEquals(0, run.exit(), run.err());
    String upgrade = helmUpgrade(run);
    assertTrue(upgrade.contains("-f charts/gpu-telemetry/values-production.yaml"), upgrade);
    assertFalse(upgrade.contains("image."), "the values file's image stays: " + upgrade);

    Files.writeString(log, "");
    Run explicit =
        make(
            env,
            "deploy",
            "VALUES=charts/gpu-telemetry/values-production.yaml",
            "IMAGE_REPO=registry.example.com/gt",
            "IMAGE_TAG=1.2.3");
    assertEquals(0, explicit.exit(), explicit.err());
    String overridden = helmUpgrade(explicit);
    assertTrue(
        overridden.contains("--set image.repository=registry.example.com/gt --set image.tag=1.2.3"),
        overridden);
  }

  static String helmUpgrade(Run run) {
    return run.calls("helm").stream()
        .filter(c -> c.startsWith("helm upgrade --install gpu-telemetry "))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no helm upgrade: " + run.calls()));
  }

  @Test
  void deployWithoutValuesStopsBeforeHelmOnTheMissingSecretAndThePlaceholderKafka()
      throws Exception {
    Run run = make(Map.of("FAKE_HELM_TEMPLATE", rendered(null).toString()), "deploy");
    assertNotEquals(0, run.exit());
    assertTrue(
        run.err().contains("Secret gpu-telemetry/gpu-telemetry-mongodb does not exist"), run.err());
    assertTrue(
        run.err()
            .contains("Kafka address 'kafka:9092' names no Service in namespace gpu-telemetry"),
        run.err());
    assertTrue(
        run.calls("helm").stream().noneMatch(c -> c.startsWith("helm upgrade")),
        "nothing installed, no 10-minute wait: " + run.calls());
  }

  @Test
  void deployCreatesTheNamespaceBeforeLookingForItsSecrets() throws Exception {
    Run run =
        make(
            Map.of(
                "FAKE_HELM_TEMPLATE", rendered(null).toString(),
                "FAKE_SECRETS", "gpu-telemetry-mongodb",
                "FAKE_SERVICES", "kafka"),
            "deploy");
    assertEquals(0, run.exit(), "the Secret and a Service named kafka exist: " + run.err());
    int namespace = indexOf(run.calls(), "kubectl create namespace gpu-telemetry");
    int secret = indexOf(run.calls(), "kubectl -n gpu-telemetry get secret gpu-telemetry-mongodb");
    int upgrade = indexOf(run.calls(), "helm upgrade --install");
    assertTrue(namespace >= 0 && namespace < secret && secret < upgrade, run.calls().toString());
  }

  static int indexOf(List<String> calls, String prefix) {
    for (int i = 0; i < calls.size(); i++) {
      if (calls.get(i).startsWith(prefix)) {
        return i;
      }
    }
    return -1;
  }

  @Test
  void theDocsCreateTheNamespaceBeforeTheirSecretCommands() throws IOException {
    String docs = Files.readString(REPO.resolve("docs/deploy.md"));
    int namespace = docs.indexOf("make namespace");
    int secret = docs.indexOf("create secret generic");
    assertTrue(namespace >= 0 && secret > namespace, "`make namespace` comes before the Secrets");
  }

  // ---------------------------------------------------------------- plans and versions

  /** Rows "| `make TARGET ...` | ... `command` ... |" of docs/deploy.md's table of targets. */
  static final Pattern DOC_ROW =
      Pattern.compile("(?m)^\\| `make ([a-z0-9-]+)([^`]*)` \\|(.*)\\|\\s*$");

  @Test
  void makeDashNOfEveryTargetPrintsThePlanTheDocsDescribe() throws Exception {
    String docs = Files.readString(REPO.resolve("docs/deploy.md"));
    Map<String, String> rows = new LinkedHashMap<>();
    Map<String, String> args = new LinkedHashMap<>();
    Matcher m = DOC_ROW.matcher(docs);
    while (m.find()) {
      rows.put(m.group(1), m.group(3));
      args.put(m.group(1), m.group(2).trim());
    }
    Set<String> documented = new TreeSet<>(rows.keySet());
    Set<String> targets = new TreeSet<>();
    Matcher t =
        Pattern.compile("(?m)^([a-z0-9-]+):.*## ")
            .matcher(Files.readString(REPO.resolve("Makefile")));
    while (t.find()) {
      targets.add(t.group(1));
    }
    assertEquals(targets, documented, "every documented target exists, every target is documented");
    for (Map.Entry<String, String> row : rows.entrySet()) {
      List<String> cmd = new ArrayList<>(List.of("-n", row.getKey()));
      if (!args.get(row.getKey()).isEmpty()) {
        cmd.addAll(List.of(args.get(row.getKey()).split(" ")));
      }
      Run run = make(Map.of(), cmd.toArray(String[]::new));
      assertEquals(0, run.exit(), "make -n " + row.getKey() + ": " + run.err());
      Matcher code = Pattern.compile("`([^`]+)`").matcher(row.getValue());
      int found = 0;
      while (code.find()) {
        found++;
        String command = code.group(1).replace("\\|", "|"); // a table cell escapes its pipes
        assertTrue(
            run.out().contains(command),
            "make -n " + row.getKey() + " does not run `" + command + "`:\n" + run.out());
      }
      assertTrue(found > 0, "the docs row of " + row.getKey() + " names no command");
    }
  }

  @Test
  void everyThirdPartyChartIsInstalledAtItsPinnedVersion() throws Exception {
    Map<String, String> pinned = new LinkedHashMap<>();
    Matcher v =
        Pattern.compile("(?m)^([A-Z_]+)_VERSION\\s*\\?=\\s*(\\S+)$")
            .matcher(Files.readString(REPO.resolve("deploy/monitoring/versions.mk")));
    while (v.find()) {
      pinned.put(v.group(1), v.group(2));
    }
    assertEquals(
        Set.of("KUBE_PROMETHEUS_STACK", "LOKI", "ALLOY", "KEDA", "METRICS_SERVER"),
        pinned.keySet());
    Run run = make(Map.of(), "-n", "bootstrap-monitoring-prereqs", "deploy-monitoring");
    assertEquals(0, run.exit(), run.err());
    Map<String, String> expected =
        Map.of(
            "kube-prometheus-stack", pinned.get("KUBE_PROMETHEUS_STACK"),
            "loki", pinned.get("LOKI"),
            "alloy", pinned.get("ALLOY"),
            "keda", pinned.get("KEDA"),
            "metrics-server", pinned.get("METRICS_SERVER"));
    Set<String> installed = new TreeSet<>();
    Matcher install =
        Pattern.compile("helm upgrade --install (\\S+) \\S+ (?:--version (\\S+))?")
            .matcher(run.out());
    while (install.find()) {
      String release = install.group(1);
      assertEquals(expected.get(release), install.group(2), release + " must be pinned");
      installed.add(release);
    }
    assertEquals(new TreeSet<>(expected.keySet()), installed, run.out());
    assertFalse(run.out().contains("promtail"), "Promtail is deprecated: Alloy ships the logs");
  }

  @Test
  void noGrafanaPasswordIsCommittedAndOneIsGenerated() throws Exception {
    String values =
        Files.readString(REPO.resolve("deploy/monitoring/kube-prometheus-stack-values.yaml"));
    assertFalse(values.contains("adminPassword"), "no password in the values file");
    assertTrue(values.contains("existingSecret: grafana-admin"), values);
    Run run = make(Map.of(), "-n", "deploy-monitoring");
    assertTrue(run.out().contains("/dev/urandom"), "the password is generated: " + run.out());
  }

  @Test
  void imageBuildsFromTheSourcesWithoutAPriorMavenBuild() throws Exception {
    Run run = make(Map.of(), "image");
    assertEquals(0, run.exit(), run.err());
    assertEquals(
        List.of(
            "docker build --build-arg VERSION=0.1.0 -t ghcr.io/gpu-telemetry/gpu-telemetry:0.1.0"
                + " ."),
        run.calls("docker"));
    assertTrue(run.calls("mvn").isEmpty());
  }
}
