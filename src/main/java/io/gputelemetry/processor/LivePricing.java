package io.gputelemetry.processor;

import io.gputelemetry.accounting.LiveRates;
import io.gputelemetry.accounting.PriceBook;
import io.gputelemetry.event.Event;
import io.gputelemetry.event.EventFields;
import io.gputelemetry.event.EventType;
import io.gputelemetry.metrics.Telemetry;
import io.gputelemetry.store.GpuRecord;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The live side of pricing in the processor: the estimate each stored event carries, the tokens fed
 * to the live rates, the fleet view refreshed from the inventory, and the per-model gauges.
 */
final class LivePricing {
  private final PriceBook prices;
  private final LiveRates live;
  private final Telemetry telemetry;
  private final Set<String> modelGauges = new HashSet<>();

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
   * events, the model's live cost per token. {@code rates} holds one rate per model and batch (the
   * window does not move within a batch).
   */
  Estimate estimate(Event e, Map<String, LiveRates.Rates> rates, long now) {
    long ts = e.ts().toEpochMilli();
    if (e.type() == EventType.GPU_SAMPLE) {
      return prices.priceAt(e.text(EventFields.G_GPU_MODEL), ts) == null
          ? Estimate.UNPRICED
          : Estimate.NONE;
    }
    String gpuModel = gpuModelOf(e);
    boolean unpriced = gpuModel != null && prices.priceAt(gpuModel, ts) == null;
    LiveRates.Rates r = rates.computeIfAbsent(e.text(EventFields.T_MODEL), m -> live.rates(m, now));
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

  /** Replaces the fleet view with the inventory just read. */
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
    live.models().forEach(this::gauges);
  }

  /** Registers a model's live gauges once. */
  void gauges(String model) {
    if (modelGauges.add(model)) {
      telemetry.modelRates(
          model,
          () -> {
            LiveRates.Rates r = live.rates(model, System.currentTimeMillis());
            return new Telemetry.ModelRates(
                r.tokensPerSecond(), r.requestsPerSecond(), r.costPerToken(), r.energyPerToken());
          });
    }
  }
}
