package io.gputelemetry.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The Dockerfile builds the image from a clean clone (a Maven stage with a dependency layer, a JRE
 * runtime stage, pinned base images, a non-root user matching the chart), CI publishes it where the
 * chart's default image points, and the JVM's heap share leaves room for its measured non-heap
 * memory. No Docker engine runs here: this checks the file's structure; CI builds it.
 */
class DockerfileTest {
  static final Path REPO = Paths.get("");

  /**
   * Committed non-heap memory of the running jar in its largest form (standalone: embedded broker
   * and store besides both roles), measured with NMT (docs/deploy.md); each role alone needs less.
   */
  static final int MEASURED_NON_HEAP_MIB = 225;

  record Instruction(String keyword, String args) {}

  record Stage(String image, String name, List<Instruction> instructions) {
    List<String> args(String keyword) {
      return instructions.stream()
          .filter(i -> i.keyword().equals(keyword))
          .map(Instruction::args)
          .toList();
    }

    int indexOf(String keyword, String contains) {
      for (int i = 0; i < instructions.size(); i++) {
        if (instructions.get(i).keyword().equals(keyword)
            && instructions.get(i).args().contains(contains)) {
          return i;
        }
      }
      return -1;
    }
  }

  static List<Stage> stages() throws IOException {
    String text = Files.readString(REPO.resolve("Dockerfile")).replaceAll("\\\\\\n", " ");
    List<Stage> stages = new ArrayList<>();
    Pattern from = Pattern.compile("(?i)FROM\\s+(\\S+)(?:\\s+AS\\s+(\\S+))?");
    for (String line : text.split("\n")) {
      String l = line.strip();
      if (l.isEmpty() || l.startsWith("#")) {
        continue;
      }
      String keyword = l.split("\\s+", 2)[0].toUpperCase(java.util.Locale.ROOT);
      String args = l.contains(" ") ? l.substring(l.indexOf(' ') + 1).strip() : "";
      if (keyword.equals("FROM")) {
        Matcher m = from.matcher(l);
        assertTrue(m.matches(), l);
        stages.add(new Stage(m.group(1), m.group(2), new ArrayList<>()));
      } else {
        assertFalse(stages.isEmpty(), "instruction before FROM: " + l);
        stages.get(stages.size() - 1).instructions().add(new Instruction(keyword, args));
      }
    }
    return stages;
  }

  @Test
  void aMavenStageBuildsTheJarAfterADependencyLayerAndAJreStageRunsIt() throws IOException {
    List<Stage> stages = stages();
    assertEquals(2, stages.size(), "build and runtime stages");
    Stage build = stages.get(0);
    Stage runtime = stages.get(1);
    for (Stage s : stages) {
      Matcher tag = Pattern.compile("^[a-z0-9./-]+:([^@]+)$").matcher(s.image());
      assertTrue(tag.matches(), s.image() + ": a tag is pinned");
      assertTrue(
          tag.group(1).matches(".*\\d+\\.\\d+.*") && !tag.group(1).contains("latest"),
          s.image() + ": the tag names an exact version");
    }
    assertTrue(
        build.image().startsWith("maven:") && build.image().contains("temurin-17"), build.image());
    assertEquals("build", build.name());
    int pom = build.indexOf("COPY", "pom.xml");
    int dependencies = build.indexOf("RUN", "dependency:go-offline");
    int sources = build.indexOf("COPY", "src/main");
    int packaging = build.indexOf("RUN", " package");
    assertTrue(
        pom >= 0 && pom < dependencies && dependencies < sources && sources < packaging,
        "pom.xml, then its dependencies, then the sources, then the jar: " + build.instructions());
    assertTrue(build.indexOf("COPY", "conf") >= 0, "conf/ is packed into the jar");

    assertTrue(
        runtime.image().startsWith("eclipse-temurin:17") && runtime.image().contains("jre"),
        "a JRE, not a JDK: " + runtime.image());
    assertTrue(
        runtime.args("COPY").stream()
            .anyMatch(c -> c.startsWith("--from=build") && c.contains("gpu-telemetry.jar")),
        "the jar comes from the build stage, not from the build context");
    assertTrue(runtime.args("RUN").stream().noneMatch(r -> r.contains("mvn")));
  }

  @Test
  void theRuntimeRunsAsTheChartsNonRootUserWithTheJarAsEntrypoint() throws IOException {
    Stage runtime = stages().get(1);
    List<String> users = runtime.args("USER");
    assertEquals(1, users.size());
    String uid = users.get(0).split(":")[0];
    assertTrue(uid.matches("\\d+") && !uid.equals("0"), "a numeric non-root user: " + users);
    String values = Files.readString(REPO.resolve("charts/gpu-telemetry/values.yaml"));
    assertTrue(
        values.contains("runAsUser: " + uid), "the chart's runAsUser is the image's user " + uid);
    String entrypoint = runtime.args("ENTRYPOINT").get(0);
    List<?> argv = RenderedChart.YAML.readValue(entrypoint, List.class);
    assertEquals("java", argv.get(0), "exec form, java first (signals reach the JVM)");
    assertTrue(argv.contains("-jar") && argv.contains("/app/gpu-telemetry.jar"), entrypoint);
    assertTrue(argv.contains("-XX:+ExitOnOutOfMemoryError"), entrypoint);
  }

  @Test
  void theBuildContextAdmitsWhatTheBuildStageCopies() throws IOException {
    List<String> ignore = Files.readAllLines(REPO.resolve(".dockerignore"));
    assertTrue(ignore.contains("*"), "everything else stays out");
    for (String needed : List.of("!pom.xml", "!conf/", "!src/main/")) {
      assertTrue(ignore.contains(needed), ".dockerignore lacks " + needed);
    }
  }

  @Test
  void ciPublishesTheImageToGhcrWithTheChartVersionWhereTheChartPoints() throws IOException {
    Path workflow = REPO.resolve(".github/workflows/image.yml");
    Map<?, ?> wf = RenderedChart.YAML.readValue(workflow.toFile(), Map.class);
    // YAML 1.1 (SnakeYAML) reads the key "on" as the boolean true.
    Map<?, ?> on = (Map<?, ?>) (wf.containsKey("on") ? wf.get("on") : wf.get(Boolean.TRUE));
    assertEquals(List.of("v*"), ((Map<?, ?>) on.get("push")).get("tags"), "release tags publish");
    String text = Files.readString(workflow);
    assertTrue(text.contains("docker/build-push-action"), "builds the Dockerfile");
    assertTrue(text.contains("registry: ghcr.io"), "logs in to ghcr.io");
    assertTrue(
        text.contains("push: ${{ github.event_name != 'pull_request' }}"),
        "pull requests only build");
    assertTrue(
        text.contains("charts/gpu-telemetry/Chart.yaml")
            && text.contains("does not match chart version"),
        "the tag comes from the chart, and a release tag must equal the chart version");
    String image = "ghcr.io/${GITHUB_REPOSITORY_OWNER,,}/gpu-telemetry";
    assertTrue(text.contains(image), "publishes " + image);

    String values = Files.readString(REPO.resolve("charts/gpu-telemetry/values.yaml"));
    Matcher repo = Pattern.compile("(?m)^  repository: (\\S+)$").matcher(values);
    assertTrue(repo.find());
    assertTrue(repo.group(1).matches("ghcr\\.io/[a-z0-9-]+/gpu-telemetry"), repo.group(1));
    assertTrue(
        Files.readString(REPO.resolve("Makefile")).contains("IMAGE_BUILD_REPO := " + repo.group(1)),
        "make image builds what the chart pulls");
  }

  @Test
  void theHeapShareLeavesRoomForTheMeasuredNonHeapInEveryRole() throws IOException {
    String entrypoint = stages().get(1).args("ENTRYPOINT").get(0);
    Matcher pct = Pattern.compile("-XX:MaxRAMPercentage=(\\d+)").matcher(entrypoint);
    assertTrue(pct.find(), entrypoint);
    int heapPercent = Integer.parseInt(pct.group(1));
    for (Path values : new Path[] {null, HelmChartTest.PRODUCTION}) {
      RenderedChart chart = HelmChartTest.render(values, Map.of());
      for (Deployment d : chart.all(Deployment.class)) {
        Quantity limit =
            d.getSpec()
                .getTemplate()
                .getSpec()
                .getContainers()
                .get(0)
                .getResources()
                .getLimits()
                .get("memory");
        BigDecimal mib = Quantity.getAmountInBytes(limit).divide(BigDecimal.valueOf(1024 * 1024));
        double nonHeap = mib.doubleValue() * (100 - heapPercent) / 100;
        assertTrue(
            nonHeap >= MEASURED_NON_HEAP_MIB,
            d.getMetadata().getName()
                + " ("
                + values
                + "): "
                + nonHeap
                + " MiB beside a "
                + heapPercent
                + " % heap is below the measured "
                + MEASURED_NON_HEAP_MIB
                + " MiB");
      }
    }
    assertTrue(
        Files.readString(REPO.resolve("docs/deploy.md"))
            .contains(MEASURED_NON_HEAP_MIB + " MiB committed besides the heap"),
        "docs/deploy.md states the measured figure");
  }
}
