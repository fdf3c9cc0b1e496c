package io.gputelemetry.accounting;

import io.gputelemetry.store.UsageRows;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * Per model, the latency and the time to first token of the stored requests of a range (the {@code
 * latency_ms} and {@code ttft_ms} their sources reported): count, mean and maximum exactly, the
 * 0.5, 0.9 and 0.99 quantiles (nearest rank) from a histogram of 32 buckets per doubling, so within
 * 1.1 % of the exact value whatever the number of requests. Memory is bounded by the buckets (at
 * most about 1,100 per model and figure) and {@link #MAX_MODELS}: requests of further models are
 * counted as left out, not kept. Fed by one thread at a time.
 */
public final class RequestLatencies implements Consumer<UsageRows.Latency> {
  /** Models an answer holds at most; the first ones seen. */
  public static final int MAX_MODELS = 200;

  /** The quantiles reported, as on the inference servers' gauges on /metrics. */
  public static final List<Double> QUANTILES = List.of(0.5, 0.9, 0.99);

  private static final int PER_DOUBLING = 32;

  /** Everything at or below 2^-7 ms (8 µs) shares the lowest bucket. */
  private static final int LOWEST = -7 * PER_DOUBLING;

  private final Map<String, Figures[]> models = new TreeMap<>();
  private long leftOut;

  @Override
  public void accept(UsageRows.Latency l) {
    String model = l.model() == null ? "" : l.model();
    Figures[] f = models.get(model);
    if (f == null) {
      if (models.size() >= MAX_MODELS) {
        leftOut++;
        return;
      }
      f = new Figures[] {new Figures(), new Figures()};
      models.put(model, f);
    }
    if (l.latencyMs() != null) {
      f[0].add(l.latencyMs());
    }
    if (l.ttftMs() != null) {
      f[1].add(l.ttftMs());
    }
  }

  /** One model's figures: end-to-end latency and time to first token, each null without any. */
  public record Model(String model, Summary latency, Summary ttft) {}

  /** The figures of one latency, in milliseconds; quantiles in the order of {@link #QUANTILES}. */
  public record Summary(long count, double mean, double max, List<Double> quantiles) {}

  /** Every model seen, by name. */
  public List<Model> models() {
    List<Model> out = new ArrayList<>(models.size());
    models.forEach((m, f) -> out.add(new Model(m, f[0].summary(), f[1].summary())));
    return out;
  }

  /** Requests of models beyond {@link #MAX_MODELS}, not in {@link #models()}. */
  public long leftOut() {
    return leftOut;
  }

  /** The bucket of a value: floor(log2(v) x 32), everything small in the lowest. */
  static int bucket(double ms) {
    if (!(ms > 0)) {
      return LOWEST;
    }
    return Math.max(LOWEST, (int) Math.floor(Math.log(ms) / Math.log(2) * PER_DOUBLING));
  }

  private static final class Figures {
    private final TreeMap<Integer, long[]> buckets = new TreeMap<>();
    private long count;
    private double sum;
    private double min = Double.POSITIVE_INFINITY;
    private double max = Double.NEGATIVE_INFINITY;

    void add(double ms) {
      buckets.computeIfAbsent(bucket(ms), b -> new long[1])[0]++;
      count++;
      sum += ms;
      min = Math.min(min, ms);
      max = Math.max(max, ms);
    }

    Summary summary() {
      if (count == 0) {
        return null;
      }
      List<Double> q = new ArrayList<>(QUANTILES.size());
      QUANTILES.forEach(p -> q.add(quantile(p)));
      return new Summary(count, sum / count, max, List.copyOf(q));
    }

    /**
     * The nearest-rank quantile: the bucket holding the ceil(q x count)-th smallest value, as its
     * geometric middle, within the smallest and largest value seen.
     */
    private double quantile(double q) {
      long rank = Math.max(1, (long) Math.ceil(q * count));
      long seen = 0;
      for (Map.Entry<Integer, long[]> b : buckets.entrySet()) {
        seen += b.getValue()[0];
        if (seen >= rank) {
          double middle = Math.pow(2, (b.getKey() + 0.5) / PER_DOUBLING);
          return Math.min(max, Math.max(min, middle));
        }
      }
      return max;
    }
  }
}
