package io.gputelemetry.loadtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The k6 scripts parse as ES modules (k6 cannot be installed here; node checks the syntax). */
class K6ScriptsTest {
  private static final Path K6 = Path.of("loadtest", "k6");

  private static int check(Path dir, StringBuilder out) throws Exception {
    Process p = new ProcessBuilder("bash", K6.resolve("check.sh").toString(), dir.toString())
        .redirectErrorStream(true).start();
    out.append(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
    assertTrue(p.waitFor(2, TimeUnit.MINUTES));
    return p.exitValue();
  }

  private static boolean hasNode() {
    try {
      return new ProcessBuilder("node", "--version").start().waitFor() == 0;
    } catch (Exception e) {
      return false;
    }
  }

  @Test
  void everyScriptParsesAndABrokenOneIsCaught(@TempDir Path tmp) throws Exception {
    assumeTrue(hasNode(), "node (installed by .ci/run)");
    StringBuilder out = new StringBuilder();
    assertEquals(0, check(K6, out), out.toString());
    Files.writeString(tmp.resolve("broken.js"), "import http from 'k6/http';\nexport default function () { http.get( }\n");
    StringBuilder bad = new StringBuilder();
    assertNotEquals(0, check(tmp, bad), "a syntax error must fail the check: " + bad);
  }

  @Test
  void everyScenarioReadsTheTargetAndDeclaresThresholds() throws Exception {
    List<Path> scripts;
    try (Stream<Path> s = Files.list(K6)) {
      scripts = s.filter(p -> p.toString().endsWith(".js")).toList();
    }
    assertEquals(3, scripts.size(), scripts.toString());
    String lib = Files.readString(K6.resolve("lib/events.js"));
    assertTrue(lib.contains("__ENV.BASE_URL") && lib.contains("__ENV.API_KEY") && lib.contains("__ENV.RATE"));
    for (Path p : scripts) {
      String js = Files.readString(p);
      assertTrue(js.contains("thresholds"), p + " declares thresholds");
      assertTrue(js.contains("BASE_URL"), p + " posts to BASE_URL");
      assertTrue(js.contains("check("), p + " checks the answers");
    }
  }
}
