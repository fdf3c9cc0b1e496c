package io.gputelemetry.support;

import io.gputelemetry.metrics.Telemetry;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads a process's metrics as Prometheus does: from its text exposition. A counter series shows 0
 * on the first scrape that sees it, so {@link #settled} scrapes twice.
 */
public final class Scrapes {
  private static final Pattern LINE =
      Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{(.*)})? (\\S+)$", Pattern.MULTILINE);

  private Scrapes() {}

  /** The sum of the samples named {@code name} with every given label, in one scrape's text. */
  public static double value(String exposition, String name, String... labels) {
    double sum = 0;
    boolean found = false;
    Matcher m = LINE.matcher(exposition);
    while (m.find()) {
      if (!m.group(1).equals(name)) {
        continue;
      }
      String labelText = m.group(3) == null ? "" : m.group(3);
      boolean all = true;
      for (int i = 0; i + 1 < labels.length; i += 2) {
        if (!labelText.contains(labels[i] + "=\"" + labels[i + 1] + "\"")) {
          all = false;
          break;
        }
      }
      if (all) {
        found = true;
        sum += Double.parseDouble(m.group(4));
      }
    }
    if (!found) {
      throw new AssertionError("no sample " + name + " with " + String.join(",", labels));
    }
    return sum;
  }

  /** The value a scrape shows once new series have been seen once (the second of two scrapes). */
  public static double settled(Telemetry telemetry, String name, String... labels) {
    telemetry.registry().scrape();
    return value(telemetry.registry().scrape(), name, labels);
  }
}
