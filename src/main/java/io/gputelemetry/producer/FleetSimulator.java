package io.gputelemetry.producer;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.gputelemetry.accounting.GpuProfiles;
import io.gputelemetry.config.AppConfig;
import io.gputelemetry.event.Event;
import io.gputelemetry.event.EventParser;
import io.gputelemetry.event.EventType;
import io.gputelemetry.event.ParseResult;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.UUID;

/**
 * A simulated inference fleet: nodes x GPUs, each GPU serving one LLM. Requests arrive as a Poisson
 * process with heavy-tailed token counts; each GPU's utilisation, power, energy counter,
 * temperature and clocks follow the tokens it served. Everything but the wall-clock timestamps is a
 * function of the seed; event ids carry the run id, so no two runs share an id.
 */
public final class FleetSimulator {
  private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

  /**
   * XID codes the simulator injects when asked to: application errors (13 graphics engine
   * exception, 31 memory page fault, 43 stopped channel, 45 preemptive cleanup) and hardware ones
   * (48 double-bit ECC, 63 row remapping, 74 NVLink, 79 fallen off the bus, 94 contained ECC).
   */
  private static final int[] XID_CODES = {13, 31, 43, 45, 48, 63, 74, 79, 94};

  private final AppConfig.Simulator config;

  /** The writer of the simulator's samples: their ids' scope, apart from any API key's. */
  public static final String WRITER = "simulator";

  private final EventParser parser;
  private final String runId;
  private final SplittableRandom random;
  private final List<Gpu> gpus = new ArrayList<>();
  private final double[] tenantWeights;
  private final double xidPerGpuSecond;
  private long requestSeq;
  private long sampleSeq;
  private final double intervalSeconds;

  /** One simulated GPU and its running state. */
  static final class Gpu {
    final String uuid;
    final String node;
    final int index;
    final GpuProfiles.Profile profile;
    final String model;
    final double weightsMib;
    double tokensSinceSample;
    double energyMj;
    double temperature = 34;
    long xid;
    int lastXid;
    Instant nextSample;
    Instant lastSample;

    Gpu(
        String uuid,
        String node,
        int index,
        GpuProfiles.Profile profile,
        String model,
        double weightsMib) {
      this.uuid = uuid;
      this.node = node;
      this.index = index;
      this.profile = profile;
      this.model = model;
      this.weightsMib = weightsMib;
    }
  }

  public FleetSimulator(
      AppConfig.Simulator config,
      GpuProfiles profiles,
      EventParser parser,
      String runId,
      Instant start) {
    this.config = config;
    this.parser = parser;
    this.runId = runId;
    this.random = new SplittableRandom(config.seed());
    this.xidPerGpuSecond = config.load().xidPerGpuHour() / 3600;
    int total = config.fleet().nodes() * config.fleet().gpusPerNode();
    Duration interval = config.load().sampleInterval();
    this.intervalSeconds = interval.toMillis() / 1000.0;
    for (int n = 0; n < config.fleet().nodes(); n++) {
      GpuProfiles.Profile profile =
          profiles.require(
              config.fleet().gpuModels().get(n % config.fleet().gpuModels().size()),
              "simulator.gpu-models");
      String node = String.format("sim-node-%02d", n + 1);
      for (int i = 0; i < config.fleet().gpusPerNode(); i++) {
        int global = n * config.fleet().gpusPerNode() + i;
        String uuid =
            "GPU-"
                + UUID.nameUUIDFromBytes(
                    (config.seed() + "/" + node + "/" + i).getBytes(StandardCharsets.UTF_8));
        String model = config.fleet().models().get(global % config.fleet().models().size());
        double weights =
            Math.min(profile.memoryMib() * 0.6, 2000 + 400.0 * (model.hashCode() & 0x3f));
        Gpu g = new Gpu(uuid, node, i, profile, model, weights);
        g.energyMj = 1_000_000.0 * (1 + random.nextInt(1000));
        // Spread the GPUs' samples over the interval instead of a burst per tick.
        g.nextSample = start.plusNanos(interval.toNanos() * global / Math.max(1, total));
        g.lastSample = start;
        gpus.add(g);
      }
    }
    tenantWeights = new double[config.fleet().tenants().size()];
    double sum = 0;
    for (int i = 0; i < tenantWeights.length; i++) {
      sum += 1.0 / (i + 1);
      tenantWeights[i] = sum;
    }
    for (int i = 0; i < tenantWeights.length; i++) {
      tenantWeights[i] /= sum;
    }
  }

  public String runId() {
    return runId;
  }

  public int gpuCount() {
    return gpus.size();
  }

  public long requestsGenerated() {
    return requestSeq;
  }

  /**
   * Advances the simulation to {@code now}: the requests that arrived in {@code dt} and the samples
   * that fell due, at most {@code maxRequests} requests (for --count).
   */
  public List<Event> advance(Instant now, Duration dt, long maxRequests) {
    List<Event> out = new ArrayList<>();
    long n = Math.min(poisson(config.load().rate() * dt.toNanos() / 1e9), maxRequests);
    for (long i = 0; i < n; i++) {
      out.add(request(now, dt));
    }
    for (Gpu g : gpus) {
      while (!g.nextSample.isAfter(now)) {
        out.add(sample(g, g.nextSample));
        g.nextSample = g.nextSample.plus(config.load().sampleInterval());
      }
    }
    return out;
  }

  private Event request(Instant now, Duration dt) {
    Gpu g = gpus.get(random.nextInt(gpus.size()));
    String tenant = config.fleet().tenants().get(pickTenant());
    long input =
        Math.min(32_000, Math.max(1, Math.round(Math.exp(Math.log(600) + 0.9 * gaussian()))));
    // Pareto(alpha 1.6, scale 40): most answers are short, a few are very long.
    long output = Math.min(8_192, Math.round(40 / Math.pow(1 - random.nextDouble(), 1 / 1.6)));
    double perStream = Math.max(10, g.profile.simTokensPerSecond() / 40);
    double latency = 60 + input * 0.02 + output * 1000 / perStream;
    g.tokensSinceSample += input * 0.1 + output;
    Instant ts = now.minusNanos((long) (random.nextDouble() * dt.toNanos()));
    ObjectNode body =
        JSON.objectNode()
            .put("event_id", "sim-" + runId + "-r" + ++requestSeq)
            .put("ts", ts.toString())
            .put("tenant", tenant)
            .put("model", g.model)
            .put("provider", "vllm")
            .put("input_tokens", input)
            .put("output_tokens", output)
            .put("latency_ms", Math.round(latency * 10) / 10.0)
            .put("gpu_uuid", g.uuid)
            .put("node", g.node);
    return valid(EventType.TOKEN_USAGE, body, now);
  }

  private Event sample(Gpu g, Instant at) {
    double secs = Math.max(1e-3, Duration.between(g.lastSample, at).toNanos() / 1e9);
    double capacity = g.profile.simTokensPerSecond() * secs;
    double util =
        Math.min(
            100,
            (g.tokensSinceSample > 0 ? 8 : 0)
                + 100 * g.tokensSinceSample / capacity
                + gaussian() * 1.5);
    util = Math.max(0, util);
    double load = util / 100;
    double power =
        g.profile.idlePowerW()
            + (g.profile.maxPowerW() - g.profile.idlePowerW()) * Math.pow(load, 0.8)
            + gaussian() * g.profile.maxPowerW() * 0.005;
    power = Math.max(g.profile.idlePowerW() * 0.9, Math.min(g.profile.maxPowerW(), power));
    g.energyMj += power * secs * 1000;
    double target = 32 + 50 * load;
    g.temperature += (target - g.temperature) * Math.min(1, secs / 20);
    if (xidPerGpuSecond > 0 && random.nextDouble() < xidPerGpuSecond * secs) {
      g.xid++;
      g.lastXid = XID_CODES[random.nextInt(XID_CODES.length)];
    }
    double kvCache = (g.profile.memoryMib() - g.weightsMib) * 0.85 * Math.min(1, load * 1.3);
    int clock = util < 1 ? 210 : (int) Math.round(g.profile.maxSmClockMhz() * (0.75 + 0.25 * load));
    g.tokensSinceSample = 0;
    g.lastSample = at;
    ObjectNode body =
        JSON.objectNode()
            .put("event_id", "sim-" + runId + "-s" + ++sampleSeq)
            .put("writer", WRITER)
            .put("ts", at.toString())
            .put("node", g.node)
            .put("gpu_uuid", g.uuid)
            .put("gpu_index", g.index)
            .put("gpu_model", g.profile.name())
            .put("model", g.model)
            .put("utilization_pct", round1(util))
            .put("memory_used_mib", Math.round(g.weightsMib + kvCache))
            .put("memory_total_mib", g.profile.memoryMib())
            .put("power_w", round1(power))
            .put("energy_mj", Math.round(g.energyMj))
            .put("temperature_c", round1(g.temperature))
            .put("sm_clock_mhz", clock)
            .put("xid_errors", g.xid)
            .put("last_xid", g.lastXid)
            .put("interval_s", intervalSeconds)
            .put("max_gap_s", intervalSeconds * config.load().sampleGapIntervals());
    return valid(EventType.GPU_SAMPLE, body, at);
  }

  private Event valid(EventType type, ObjectNode body, Instant now) {
    ParseResult r = parser.parse(type, body, now, null);
    if (!r.ok()) {
      throw new IllegalStateException(
          "simulator produced an invalid " + type.schemaName() + " event: " + r.violations());
    }
    return r.event();
  }

  private int pickTenant() {
    double u = random.nextDouble();
    for (int i = 0; i < tenantWeights.length; i++) {
      if (u <= tenantWeights[i]) {
        return i;
      }
    }
    return tenantWeights.length - 1;
  }

  private long poisson(double lambda) {
    if (lambda <= 0) {
      return 0;
    }
    if (lambda > 30) {
      return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * gaussian()));
    }
    double l = Math.exp(-lambda);
    long k = 0;
    double p = 1;
    do {
      k++;
      p *= random.nextDouble();
    } while (p > l);
    return k - 1;
  }

  private double gaussian() {
    // Box-Muller on the seeded generator (SplittableRandom has no nextGaussian on Java 17).
    double u1 = Math.max(1e-12, random.nextDouble());
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * random.nextDouble());
  }

  private static double round1(double v) {
    return Math.round(v * 10) / 10.0;
  }
}
