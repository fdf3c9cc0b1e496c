package io.gputelemetry.support;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.SplittableRandom;

/**
 * A cheap, deterministic stream of valid events in the canonical JSON of the schemas, for fault
 * tests: mostly token events, some GPU samples over a small fleet, samples of a GPU sometimes late
 * (out of order) or sharing a timestamp, so that the inventory's ordering rules are exercised.
 * Every event id is unique to the generator's prefix.
 */
public final class FaultEvents {
  /**
   * One event: which topic, the record key and value, and its store key
   * ("collection|scope/event_id").
   */
  public record Rec(boolean sample, String key, byte[] value, String id) {}

  private static final String[] TENANTS = {"acme", "globex", "initech", "umbrella", "hooli"};
  private static final String[] MODELS = {
    "llama-3.1-70b-instruct", "llama-3.1-8b-instruct", "mistral-7b-instruct"
  };
  private static final String[] GPU_MODELS = {"H100-SXM-80GB", "A100-SXM-80GB"};
  private static final int NODES = 4;
  private static final int GPUS_PER_NODE = 4;

  private final String prefix;
  private final SplittableRandom random;
  private final Instant base;
  private final boolean wholeSeconds;
  private final double sampleShare;
  private final long[] lastSampleMillis = new long[NODES * GPUS_PER_NODE];
  private long seq;

  /**
   * @param prefix makes the ids unique to a test
   * @param sampleShare fraction of GPU samples (the rest are token events)
   * @param wholeSeconds whether timestamps may fall on a whole second (printed without a fraction)
   */
  public FaultEvents(String prefix, long seed, double sampleShare, boolean wholeSeconds) {
    this.prefix = prefix;
    this.random = new SplittableRandom(seed);
    this.sampleShare = sampleShare;
    this.wholeSeconds = wholeSeconds;
    // Far enough back that a long run stays in the past, well inside events.max-age.
    this.base = Instant.now().truncatedTo(ChronoUnit.SECONDS).minus(30, ChronoUnit.MINUTES);
  }

  public FaultEvents(String prefix, long seed) {
    this(prefix, seed, 0.2, false);
  }

  public synchronized Rec next() {
    long n = ++seq;
    String eventId = prefix + "-" + n;
    if (random.nextDouble() < sampleShare) {
      int g = random.nextInt(lastSampleMillis.length);
      long ms;
      double u = random.nextDouble();
      if (u < 0.05 && lastSampleMillis[g] > 0) {
        ms = lastSampleMillis[g]; // same instant as the previous sample: ties broken by event id
      } else if (u < 0.15) {
        ms = n * 2 - random.nextInt(5000); // late sample
      } else {
        ms = n * 2 + random.nextInt(50);
      }
      ms = adjust(Math.max(1, ms));
      lastSampleMillis[g] = Math.max(lastSampleMillis[g], ms);
      int node = g / GPUS_PER_NODE;
      String gpu = gpuUuid(g);
      String gpuModel = GPU_MODELS[node % GPU_MODELS.length];
      double util = random.nextInt(1001) / 10.0;
      String json =
          "{\"event_id\":\""
              + eventId
              + "\",\"ts\":\""
              + base.plusMillis(ms)
              + "\",\"node\":\"fault-node-"
              + node
              + "\",\"gpu_uuid\":\""
              + gpu
              + "\",\"gpu_index\":"
              + (g % GPUS_PER_NODE)
              + ",\"gpu_model\":\""
              + gpuModel
              + "\",\"model\":\""
              + MODELS[g % MODELS.length]
              + "\",\"utilization_pct\":"
              + util
              + ",\"memory_used_mib\":"
              + (20000 + random.nextInt(60000))
              + ",\"memory_total_mib\":81559,\"power_w\":"
              + (100 + random.nextInt(6000) / 10.0)
              + ",\"energy_mj\":"
              + (1_000_000L + n * 1000)
              + ",\"temperature_c\":"
              + (30 + random.nextInt(500) / 10.0)
              + ",\"sm_clock_mhz\":"
              + (1000 + random.nextInt(980))
              + ",\"xid_errors\":0}";
      return new Rec(
          true, gpu, json.getBytes(StandardCharsets.UTF_8), "gpu_metrics|" + gpu + "/" + eventId);
    }
    String tenant = TENANTS[random.nextInt(TENANTS.length)];
    String model = MODELS[random.nextInt(MODELS.length)];
    long ms = adjust(n * 2);
    String json =
        "{\"event_id\":\""
            + eventId
            + "\",\"ts\":\""
            + base.plusMillis(ms)
            + "\",\"tenant\":\""
            + tenant
            + "\",\"model\":\""
            + model
            + "\",\"provider\":\"vllm\",\"input_tokens\":"
            + (1 + random.nextInt(4000))
            + ",\"output_tokens\":"
            + random.nextInt(1000)
            + ",\"latency_ms\":"
            + (50 + random.nextInt(50000) / 10.0)
            + "}";
    return new Rec(
        false,
        model,
        json.getBytes(StandardCharsets.UTF_8),
        "token_usage|" + tenant + "/" + eventId);
  }

  public static String gpuUuid(int g) {
    return String.format("GPU-fault-%04d", g);
  }

  private long adjust(long ms) {
    // Whole seconds print without a fraction ("...:05Z"); kept out unless asked for (see ReplayIT).
    return !wholeSeconds && ms % 1000 == 0 ? ms + 1 : ms;
  }

  public synchronized long generated() {
    return seq;
  }
}
