package io.gputelemetry.processor;

import io.gputelemetry.accounting.LiveRates;
import io.gputelemetry.accounting.PriceBook;
import io.gputelemetry.event.Event;
import io.gputelemetry.event.EventFields;
import io.gputelemetry.event.EventType;
import io.gputelemetry.metrics.Telemetry;
import io.gputelemetry.store.GpuRecord;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The live side of pricing in the processor: the estimate each stored event carries, the tokens fed
 * to the live rates, the fleet view refreshed from the inventory, and the per-model gauges. The
 * figures of every model are computed together at each refresh (off the event loop, see {@link
 * #refresh}) and kept as one snapshot: an event's estimate and a scrape of the gauges only read it,
 * so neither costs time proportional to the fleet or the number of models.
 */
final class LivePricing {
  private final PriceBook prices;
  private final LiveRates live;
  private final Telemetry telemetry;
  private final Set<String> modelGauges = ConcurrentHashMap.newKeySet();
  private volatile Map<String, LiveRates.Rates> snapshot = Map.of();

  LivePricing(PriceBook prices, LiveRates live, Telemetry telemetry) {
    this.prices = prices;
    this.live = live;
    this.telemetry = telemetry;
  }

  /** What a stored event says of its price: unpriced, or the live cost per token (NaN: none). */
  record Estimate(boolean unpriced, double costPerToken) {
    static final Estimate UNPRICED = new Estimate(true, Double.NaN);
    static final Estimate NONE = new Estimate(false, Double.NaN);
  }

  /**
   * The estimate of an event: unpriced when its GPU has no price in force at its time; for token
   * events, the model's live cost per token as of the last refresh.
   */
  Estimate estimate(Event e) {
    long ts = e.ts().toEpochMilli();
    if (e.type() == EventType.GPU_SAMPLE) {
      return prices.appliedAt(e.text(EventFields.G_GPU_MODEL), e.text(EventFields.G_NODE), ts)
              == null
          ? Estimate.UNPRICED
          : Estimate.NONE;
    }
    String gpuModel = gpuModelOf(e);
    boolean unpriced = gpuModel != null && prices.priceAt(gpuModel, ts) == null;
    LiveRates.Rates r = snapshot.get(e.text(EventFields.T_MODEL));
    if (r == null) {
      return unpriced ? Estimate.UNPRICED : Estimate.NONE;
    }
    if (r.unpriced() || unpriced) {
      return Estimate.UNPRICED;
    }
    return r.gpus() > 0 ? new Estimate(false, r.costPerToken()) : Estimate.NONE;
  }

  /** The GPU model of the GPU an event names (a token event's serving GPU), or null. */
  String gpuModelOf(Event e) {
    if (e.type() == EventType.GPU_SAMPLE) {
      return e.text(EventFields.G_GPU_MODEL);
    }
    String gpuUuid = e.text(EventFields.T_GPU_UUID);
    return gpuUuid == null ? null : live.gpuModelOf(gpuUuid);
  }

  /** Counts stored tokens toward the live rates; true when the event came later than allowed. */
  boolean recordTokens(String model, long ts, long input, long output, long now) {
    return live.recordTokens(model, ts, input, output, now);
  }

  boolean recordTokens(String model, long ts, long input, long output, long requests, long now) {
    return live.recordTokens(model, ts, input, output, requests, now);
  }

  /**
   * Replaces the fleet view with the inventory just read and recomputes every model's figures: work
   * proportional to the fleet, for a worker thread.
   */
  void refresh(List<GpuRecord> gpus, long now) {
    List<LiveRates.GpuState> states = new ArrayList<>(gpus.size());
    for (GpuRecord g : gpus) {
      Number energy = g.lastNumber("energy_mj");
      Number power = g.lastNumber("power_w");
      states.add(
          new LiveRates.GpuState(
              g.gpuUuid(),
              g.model(),
              g.gpuModel(),
              g.seen().firstMillis(),
              g.seen().lastMillis(),
              energy == null ? null : energy.longValue(),
              power == null ? 0 : power.doubleValue()));
    }
    live.updateInventory(states, now);
    snapshot = Map.copyOf(live.all(now));
    live.models().forEach(this::gauges);
  }

  /**
   * Registers a model's live gauges once, unless the model is beyond the model label cap. A gauge
   * reads the snapshot: a scrape computes nothing.
   */
  void gauges(String model) {
    if (modelGauges.contains(model)) {
      return;
    }
    boolean registered =
        telemetry.modelRates(
            model,
            () -> {
              LiveRates.Rates r = snapshot.get(model);
              return r == null
                  ? new Telemetry.ModelRates(0, 0, Double.NaN, Double.NaN)
                  : new Telemetry.ModelRates(
                      r.tokensPerSecond(),
                      r.requestsPerSecond(),
                      r.costPerToken(),
                      r.energyPerToken());
            });
    if (registered) {
      modelGauges.add(model);
    }
  }
}
