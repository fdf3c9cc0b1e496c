package io.gputelemetry.support;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.gputelemetry.accounting.UsageCalculator.Report;
import io.gputelemetry.accounting.UsageCalculator.Totals;

/** Assertions that two usage reports hold the same figures, to 1e-9 relative. */
public final class SameReports {
  private SameReports() {}

  /** The same fleet totals, groups, and each group's and the idle line's series, step by step. */
  public static void same(Report a, Report b, String what) {
    same(a.fleet(), b.fleet(), what + " fleet");
    assertEquals(a.groups().keySet(), b.groups().keySet(), what + " groups");
    assertEquals(a.range().steps(), b.range().steps(), what + " steps");
    for (String k : a.groups().keySet()) {
      for (int step = 0; step < a.range().steps(); step++) {
        same(
            a.groups().get(k).series().get(step),
            b.groups().get(k).series().get(step),
            what + " " + k + " step " + step);
      }
    }
    for (int step = 0; step < a.range().steps(); step++) {
      same(a.idle().series().get(step), b.idle().series().get(step), what + " idle step " + step);
    }
  }

  /** The same figures. */
  public static void same(Totals a, Totals b, String what) {
    close(a.costUsd(), b.costUsd(), what + " cost");
    close(a.energyJ(), b.energyJ(), what + " energy");
    close(a.activeEnergyJ(), b.activeEnergyJ(), what + " active energy");
    close(a.gpuSeconds(), b.gpuSeconds(), what + " GPU s");
    close(a.unpricedGpuSeconds(), b.unpricedGpuSeconds(), what + " unpriced GPU s");
    close(a.uncoveredGpuSeconds(), b.uncoveredGpuSeconds(), what + " uncovered");
    assertEquals(a.sampleGaps(), b.sampleGaps(), what + " gaps");
    close(a.inputTokens(), b.inputTokens(), what + " input tokens");
    close(a.outputTokens(), b.outputTokens(), what + " output tokens");
    close(a.pricedTokens(), b.pricedTokens(), what + " priced tokens");
    close(a.unmeteredTokens(), b.unmeteredTokens(), what + " unmetered tokens");
    close(a.requests(), b.requests(), what + " requests");
  }

  private static void close(double a, double b, String what) {
    assertEquals(a, b, 1e-9 * Math.max(1, Math.abs(a)), what);
  }
}
