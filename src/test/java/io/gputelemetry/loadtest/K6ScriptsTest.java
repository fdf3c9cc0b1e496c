package io.gputelemetry.loadtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gputelemetry.support.RequiredTool;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The k6 scripts for the ingest API parse as ES modules (k6 cannot be installed on the build
 * machines; loadtest/k6/check.sh has node parse them), and each one is a load test worth the name:
 * a target from BASE_URL, an arrival-rate scenario, thresholds, checks.
 */
class K6ScriptsTest {
  private static final Path K6 = Path.of("loadtest", "k6");
  private static final List<String> SCRIPTS =
      List.of("ingest-batch.js", "ingest-mixed.js", "ingest-single.js");

  private static int check(Path dir, StringBuilder out) throws Exception {
    Process p =
        new ProcessBuilder("bash", K6.resolve("check.sh").toString(), dir.toString())
            .redirectErrorStream(true)
            .start();
    out.append(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
    if (!p.waitFor(2, TimeUnit.MINUTES)) {
      p.destroyForcibly();
      throw new AssertionError("check.sh did not finish within 2 minutes: " + out);
    }
    return p.exitValue();
  }

  @Test
  void everyScriptParsesAsAModule() throws Exception {
    RequiredTool.require("node", "apt-get install nodejs (scripts/test.sh installs it)");
    StringBuilder out = new StringBuilder();
    assertEquals(0, check(K6, out), out.toString());
    for (String s : SCRIPTS) {
      assertTrue(out.toString().contains("ok    " + s), s + " checked: " + out);
    }
    assertTrue(
        out.toString().contains("ok    lib/events.js"), "the shared helpers checked: " + out);
  }

  @Test
  void aBrokenCopyFailsTheCheck(@TempDir Path tmp) throws Exception {
    RequiredTool.require("node", "apt-get install nodejs (scripts/test.sh installs it)");
    Files.createDirectories(tmp.resolve("lib"));
    Files.copy(K6.resolve("lib/events.js"), tmp.resolve("lib/events.js"));
    String single = Files.readString(K6.resolve("ingest-single.js"));
    // A plain syntax error, in a copy of a real script.
    Files.writeString(
        tmp.resolve("ingest-single.js"), single.replace("check(res, {", "check(res, {{"));
    StringBuilder bad = new StringBuilder();
    assertNotEquals(0, check(tmp, bad), "a syntax error must fail the check: " + bad);
    assertTrue(bad.toString().contains("FAIL  ingest-single.js"), bad.toString());
    assertTrue(bad.toString().contains("ok    lib/events.js"), bad.toString());

    // Valid as a classic script, invalid as a module (modules are strict): proves module parsing.
    Files.writeString(tmp.resolve("ingest-single.js"), single + "\nwith (Math) { max(1, 2); }\n");
    StringBuilder sloppy = new StringBuilder();
    assertNotEquals(0, check(tmp, sloppy), "the files must be parsed as ES modules: " + sloppy);
  }

  @Test
  void everyScriptReadsItsTargetAndDeclaresThresholds() throws Exception {
    List<String> found;
    try (Stream<Path> s = Files.list(K6)) {
      found =
          s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".js")).sorted().toList();
    }
    assertEquals(SCRIPTS, found);
    String lib = Files.readString(K6.resolve("lib/events.js"));
    for (String env : List.of("__ENV.BASE_URL", "__ENV.API_KEY", "'RATE'", "__ENV.DURATION")) {
      assertTrue(lib.contains(env), "lib/events.js reads " + env);
    }
    assertTrue(lib.contains("'constant-arrival-rate'"), "arrival-rate scenario");
    assertTrue(lib.contains("Authorization"), "API key sent as a Bearer token");
    for (String name : SCRIPTS) {
      String js = Files.readString(K6.resolve(name));
      assertTrue(js.contains("import http from 'k6/http'"), name + " uses k6/http");
      assertTrue(js.contains("export const options"), name + " exports options");
      assertTrue(js.contains("arrivalScenario(RATE)"), name + " runs at RATE");
      assertTrue(js.contains("thresholds"), name + " declares thresholds");
      assertTrue(js.contains("http_req_failed:"), name + " bounds failed requests");
      assertTrue(
          js.contains("http_req_duration:") && js.contains("p99("), name + " bounds p(99) latency");
      assertTrue(js.contains("${BASE_URL}/v1/"), name + " posts to BASE_URL");
      assertTrue(js.contains("check(res"), name + " checks the answers");
      assertTrue(js.contains("export default function"), name + " has a default function");
    }
  }
}
