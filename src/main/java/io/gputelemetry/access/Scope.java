package io.gputelemetry.access;

import java.util.Locale;

/** What an API key may do: each route requires one scope (or none, for the open routes). */
public enum Scope {
  /** POST /v1/token-usage; a key bound to a tenant writes that tenant's events only. */
  INGEST_TOKENS("ingest:tokens"),
  /** POST /v1/gpu-metrics (GPU agents and sources); a key bound to nodes writes those only. */
  INGEST_GPU("ingest:gpu"),
  /** The query API; a key bound to a tenant sees that tenant's usage only. */
  READ("read"),
  /** GET /metrics, and the full detail of /health/ready. */
  METRICS("metrics");

  private final String text;

  Scope(String text) {
    this.text = text;
  }

  /** The name used in key files, answers and docs, e.g. {@code ingest:tokens}. */
  public String text() {
    return text;
  }

  /** The scope of a name, or null when there is none. */
  public static Scope of(String name) {
    String n = name.trim().toLowerCase(Locale.ROOT);
    for (Scope s : values()) {
      if (s.text.equals(n)) {
        return s;
      }
    }
    return null;
  }

  /** Every scope name, for error messages. */
  public static String names() {
    StringBuilder sb = new StringBuilder();
    for (Scope s : values()) {
      sb.append(sb.length() == 0 ? "" : ", ").append(s.text);
    }
    return sb.toString();
  }

  @Override
  public String toString() {
    return text;
  }
}
