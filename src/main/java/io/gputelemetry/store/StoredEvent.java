package io.gputelemetry.store;

import io.gputelemetry.event.Event;

/**
 * An event as the processor stores it: when the processor received it, and the live cost estimate
 * it carries. {@code costPerToken} is NaN when there is no estimate; {@code unpriced} when its GPU
 * has no price in force (then no cost is stored, never $0).
 */
public record StoredEvent(
    Event event, long receivedAtMillis, boolean unpriced, double costPerToken) {}
