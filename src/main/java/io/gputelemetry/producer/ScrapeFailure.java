package io.gputelemetry.producer;

/** Why one scrape failed: a bounded reason (a label value) and a message for the log. */
final class ScrapeFailure extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final String reason;

  ScrapeFailure(String reason, String message) {
    super(message, null, false, false);
    this.reason = reason;
  }

  String reason() {
    return reason;
  }
}
