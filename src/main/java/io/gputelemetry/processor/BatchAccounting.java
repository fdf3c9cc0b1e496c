package io.gputelemetry.processor;

import io.gputelemetry.accounting.CounterReadings;
import io.gputelemetry.event.Event;
import io.gputelemetry.event.EventFields;
import io.gputelemetry.event.EventType;
import io.gputelemetry.metrics.Telemetry;
import io.gputelemetry.store.Store;
import io.gputelemetry.store.UsageRows;
import io.gputelemetry.store.WriteOutcome;
import io.micrometer.core.instrument.Timer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.LongPredicate;

/**
 * What a written batch counts for: stored, duplicate, late and unpriced events, end-to-end latency,
 * tokens and requests per model and tenant (added once per batch), the live rates; what the store
 * refused goes to the batch's dead letters.
 */
final class BatchAccounting {
  private final Map<EventType, String> topics;
  private final LivePricing pricing;
  private final Telemetry telemetry;
  private final ProcessorStats stats;
  private final long allowedLatenessMillis;

  /**
   * Counter readings (vLLM, NIM) count for the live figures by their difference to the series' last
   * reading this processor stored (a model's readings share its partition).
   */
  private final CounterReadings.Live readings = new CounterReadings.Live(3_600_000L, 10_000);

  BatchAccounting(
      Map<EventType, String> topics,
      LivePricing pricing,
      Telemetry telemetry,
      ProcessorStats stats,
      long allowedLatenessMillis) {
    this.topics = Map.copyOf(topics);
    this.pricing = pricing;
    this.telemetry = telemetry;
    this.stats = stats;
    this.allowedLatenessMillis = allowedLatenessMillis;
  }

  /** Accounts the samples' write; returns the samples the store holds (new or already there). */
  List<Event> samples(Batch b, WriteOutcome out, long now) {
    return account(b, EventType.GPU_SAMPLE, out, now, e -> now - e > allowedLatenessMillis, null);
  }

  /** Accounts the token events' write. */
  void tokens(Batch b, WriteOutcome out, long now) {
    Map<ModelTenant, Sums> sums = new HashMap<>();
    account(b, EventType.TOKEN_USAGE, out, now, null, sums);
    sums.forEach(
        (k, s) -> {
          pricing.gauges(k.model());
          telemetry.tokens(k.model(), k.tenant(), s.input, s.output, s.requests);
          stats.tokens.addAndGet(s.input + s.output);
        });
  }

  /** Counts one stored token event (a request, or a reading's delta); true when late. */
  private boolean tokens(Event e, long ts, long now, Map<ModelTenant, Sums> sums) {
    String model = e.text(EventFields.T_MODEL);
    long in;
    long outTokens;
    long requests;
    String tenant;
    String series = e.text(EventFields.T_READING_OF);
    if (series == null) {
      in = e.integer(EventFields.T_INPUT, 0);
      outTokens = e.integer(EventFields.T_OUTPUT, 0);
      requests = 1;
      tenant = e.text(EventFields.T_TENANT);
    } else {
      CounterReadings.Delta d =
          readings.add(
              new UsageRows.Reading(
                  ts,
                  series,
                  model,
                  e.text(EventFields.T_TENANT),
                  e.integer(EventFields.T_PROMPT_TOTAL, 0),
                  e.integer(EventFields.T_GENERATION_TOTAL, 0),
                  e.integer(EventFields.T_REQUESTS_TOTAL, 0),
                  e.value(EventFields.T_COUNTERS_SINCE) instanceof Number n
                      ? n.doubleValue()
                      : null));
      if (d == null) {
        return now - ts > allowedLatenessMillis;
      }
      in = d.input();
      outTokens = d.output();
      requests = d.requests();
      tenant = d.tenant();
    }
    Sums s = sums.computeIfAbsent(new ModelTenant(model, tenant), k -> new Sums());
    s.input += in;
    s.output += outTokens;
    s.requests += requests;
    return pricing.recordTokens(model, ts, in, outTokens, requests, now);
  }

  private record ModelTenant(String model, String tenant) {}

  private static final class Sums {
    long input;
    long output;
    long requests;
  }

  /**
   * The part both types share. {@code late} judges a newly stored sample's event time; token events
   * are judged by the live rates, which also count them ({@code sums} not null).
   */
  private List<Event> account(
      Batch b,
      EventType type,
      WriteOutcome out,
      long now,
      LongPredicate late,
      Map<ModelTenant, Sums> sums) {
    String topic = topics.get(type);
    Timer e2e = telemetry.endToEnd(topic);
    List<Batch.Item> items = b.items(type);
    List<Event> held = new ArrayList<>(items.size());
    long lateCount = 0;
    for (int i = 0; i < items.size(); i++) {
      Batch.Item item = items.get(i);
      String refused = out.rejected().get(i);
      if (refused != null) {
        telemetry.writeFailure(Store.collection(type), "data", 1);
        b.deadLetter(item, DeadLetters.STORE_REJECTED, refused);
        continue;
      }
      Event e = item.stored().event();
      held.add(e);
      if (!out.newlyStored(i)) {
        continue;
      }
      long ts = e.ts().toEpochMilli();
      e2e.record(Math.max(0, now - ts), TimeUnit.MILLISECONDS);
      if (item.stored().unpriced()) {
        telemetry.unpriced(String.valueOf(pricing.gpuModelOf(e)));
      }
      if (sums != null) {
        if (tokens(e, ts, now, sums)) {
          lateCount++;
        }
      } else if (late.test(ts)) {
        lateCount++;
      }
    }
    if (lateCount > 0) {
      telemetry.eventsLate(topic, lateCount);
    }
    telemetry.eventsStored(topic, out.inserted());
    telemetry.eventsDuplicate(topic, out.duplicates().size());
    stats.stored.addAndGet(out.inserted());
    stats.duplicates.addAndGet(out.duplicates().size());
    return held;
  }
}
