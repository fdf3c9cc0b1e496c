package io.gputelemetry.discovery;

import java.util.List;

/** Why one refresh of a discovery failed: a bounded reason (a label value) and a message. */
public final class DiscoveryException extends RuntimeException {
  /** The values of the reason label. */
  public static final List<String> REASONS =
      List.of("dns", "connect", "timeout", "auth", "http_status", "too_large", "parse", "config");

  private static final long serialVersionUID = 1L;
  private final String reason;

  public DiscoveryException(String reason, String message) {
    super(message, null, false, false);
    if (!REASONS.contains(reason)) {
      throw new IllegalArgumentException("unknown discovery failure reason " + reason);
    }
    this.reason = reason;
  }

  public String reason() {
    return reason;
  }
}
