package io.gputelemetry.source;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.gputelemetry.event.EventType;
import io.gputelemetry.event.Violation;
import java.util.ArrayList;
import java.util.List;

/**
 * What one OTLP export request says, as candidate events (canonical bodies, validated by the caller
 * like every other source's), what was rejected and why, and how many items carried nothing for us
 * (spans without token usage, metrics of other names).
 */
public final class OtlpMapped {
  /**
   * A candidate event: its type, body, how many OTLP items (spans, data points) it was made of, and
   * where it came from (for messages).
   */
  public record Item(EventType type, ObjectNode body, int items, String where) {}

  /** Items turned away: how many, where, and why. */
  public record Rejection(int items, String where, Violation violation) {}

  private final List<Item> events = new ArrayList<>();
  private final List<Rejection> rejections = new ArrayList<>();
  private int skipped;

  void add(Item item) {
    events.add(item);
  }

  void reject(int items, String where, Violation v) {
    rejections.add(new Rejection(items, where, v));
  }

  void skip(int n) {
    skipped += n;
  }

  public List<Item> events() {
    return events;
  }

  public List<Rejection> rejections() {
    return rejections;
  }

  /** Items without anything to map (not an error). */
  public int skipped() {
    return skipped;
  }
}
