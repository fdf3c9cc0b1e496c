package io.gputelemetry.observability;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.gputelemetry.support.RequiredTool;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Runs scripts/check-rules.sh: promtool check and unit tests of every alert (firing and not),
 * dashboards well-formed, and every metric a rule or dashboard uses either in docs/metrics.md or
 * declared external. Needs promtool (Debian's prometheus), jq and PyYAML: scripts/test.sh installs
 * them, and check-rules.sh names a missing one with its install command.
 */
class RulesAndDashboardsTest {

  @Test
  void promtoolTestsAndTheMetricCrossCheckPass() throws Exception {
    RequiredTool.require("promtool", "apt-get install prometheus (scripts/test.sh installs it)");
    RequiredTool.require("jq", "apt-get install jq (scripts/test.sh installs it)");
    Process p =
        new ProcessBuilder("bash", Path.of("scripts", "check-rules.sh").toString())
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(5, TimeUnit.MINUTES)) {
      p.destroyForcibly();
      throw new AssertionError("check-rules.sh did not finish:\n" + out);
    }
    assertEquals(0, p.exitValue(), out);
  }
}
