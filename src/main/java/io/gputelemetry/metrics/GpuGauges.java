package io.gputelemetry.metrics;

import io.gputelemetry.event.Event;
import io.gputelemetry.event.EventFields;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Tags;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.function.DoubleUnaryOperator;

/**
 * The per-GPU meters of one GPU, fed by its newest sample. Which sample field each meter shows, and
 * in which unit, is one row of {@link #METERS}: exporting a new field of the GPU schema is one row
 * more.
 */
final class GpuGauges {
  /** A meter of a GPU: the sample field it shows, converted to the meter's unit. */
  private record Row(
      String meter, String field, DoubleUnaryOperator unit, boolean counter, String help) {
    EventFields.Field sampleField() {
      EventFields.Field f = EventFields.GPU_SAMPLE.get(field);
      if (f == null) {
        throw new IllegalStateException("GPU meter " + meter + " names no schema field " + field);
      }
      return f;
    }
  }

  private static final List<Row> METERS =
      List.of(
          new Row(
              "telemetry.gpu.utilization.ratio",
              "utilization_pct",
              v -> v / 100.0,
              false,
              "GPU utilisation, 0-1"),
          new Row(
              "telemetry.gpu.memory.used.bytes",
              "memory_used_mib",
              v -> v * 1048576.0,
              false,
              "GPU memory in use"),
          new Row(
              "telemetry.gpu.memory.total.bytes",
              "memory_total_mib",
              v -> v * 1048576.0,
              false,
              "GPU memory size"),
          new Row("telemetry.gpu.power.watts", "power_w", v -> v, false, "GPU board power draw"),
          new Row(
              "telemetry.gpu.temperature.celsius",
              "temperature_c",
              v -> v,
              false,
              "GPU temperature"),
          new Row(
              "telemetry.gpu.sm.clock.hertz", "sm_clock_mhz", v -> v * 1e6, false, "GPU SM clock"),
          new Row(
              "telemetry.gpu.xid.errors",
              "xid_errors",
              v -> v,
              true,
              "XID errors reported by the GPU since driver load"),
          new Row(
              "telemetry.gpu.last.xid",
              "last_xid",
              v -> v,
              false,
              "Code of the GPU's most recent XID error since driver load (0: none)"),
          new Row(
              "telemetry.gpu.energy.joules",
              "energy_mj",
              v -> v / 1000.0,
              true,
              "Energy drawn by the GPU since driver load"));

  private static final EventFields.Field[] FIELDS =
      METERS.stream().map(Row::sampleField).toArray(EventFields.Field[]::new);

  private final double[] values = new double[METERS.size()];
  private volatile double lastSeenSeconds;
  private long newestTs = Long.MIN_VALUE;
  volatile long lastUpdate = System.currentTimeMillis();
  private final List<Meter> meters = new ArrayList<>();

  GpuGauges(PrometheusMeterRegistry r, Tags tags) {
    for (int i = 0; i < METERS.size(); i++) {
      Row row = METERS.get(i);
      int index = i;
      meters.add(
          row.counter()
              ? FunctionCounter.builder(row.meter(), this, g -> g.value(index))
                  .tags(tags)
                  .description(row.help())
                  .register(r)
              : Gauge.builder(row.meter(), this, g -> g.value(index))
                  .tags(tags)
                  .description(row.help())
                  .register(r));
    }
    meters.add(
        Gauge.builder("telemetry.gpu.last.seen.timestamp.seconds", this, g -> g.lastSeenSeconds)
            .tags(tags)
            .description("Event time of the GPU's newest sample (Unix time)")
            .register(r));
  }

  private synchronized double value(int index) {
    return values[index];
  }

  /** Shows a sample unless a newer one was shown already; absent fields show 0. */
  /**
   * Shows the sample when it is this GPU's newest; returns the time since the GPU's previous sample
   * beyond the gap the sample allows (its max_gap_s), in ms, or 0.
   */
  synchronized long update(Event sample) {
    lastUpdate = System.currentTimeMillis();
    long ts = sample.ts().toEpochMilli();
    if (ts < newestTs) {
      return 0;
    }
    double allowed = sample.number(EventFields.G_MAX_GAP, Double.NaN) * 1000;
    long beyond =
        newestTs > 0 && !Double.isNaN(allowed) && sample.text(EventFields.G_MIG_PARENT) == null
            ? Math.max(0, ts - newestTs - Math.round(allowed))
            : 0;
    newestTs = ts;
    for (int i = 0; i < FIELDS.length; i++) {
      values[i] = METERS.get(i).unit().applyAsDouble(sample.number(FIELDS[i], 0));
    }
    lastSeenSeconds = ts / 1000.0;
    return beyond;
  }

  void remove(PrometheusMeterRegistry r) {
    meters.forEach(r::remove);
  }
}
