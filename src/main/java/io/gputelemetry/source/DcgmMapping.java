package io.gputelemetry.source;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.gputelemetry.config.AppConfig;
import java.net.URI;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * NVIDIA DCGM exporter output to GPU samples (gpu.metrics.v1 bodies, validated by the caller like
 * every other source). One sample per physical GPU ({@code UUID}), one per MIG instance (the
 * parent's {@code UUID} and {@code gpu} plus {@code GPU_I_PROFILE} / {@code GPU_I_ID}).
 */
public final class DcgmMapping {
  /** The writer of every sample read from a DCGM exporter. */
  public static final String WRITER = "dcgm";

  static final String UTIL = "DCGM_FI_DEV_GPU_UTIL";
  static final String GR_ACTIVE = "DCGM_FI_PROF_GR_ENGINE_ACTIVE";
  static final String FB_USED = "DCGM_FI_DEV_FB_USED";
  static final String FB_FREE = "DCGM_FI_DEV_FB_FREE";
  static final String FB_RESERVED = "DCGM_FI_DEV_FB_RESERVED";
  static final String POWER = "DCGM_FI_DEV_POWER_USAGE";
  static final String ENERGY = "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION";
  static final String TEMP = "DCGM_FI_DEV_GPU_TEMP";
  static final String SM_CLOCK = "DCGM_FI_DEV_SM_CLOCK";
  static final String XID = "DCGM_FI_DEV_XID_ERRORS";
  private static final List<String> FIELDS =
      List.of(UTIL, GR_ACTIVE, FB_USED, FB_FREE, FB_RESERVED, POWER, ENERGY, TEMP, SM_CLOCK, XID);

  /**
   * DCGM's modelName of the GPUs in conf/gpu-profiles.json (what nvidia-smi and DCGM report) to the
   * profile's name; sources.dcgm.gpu-models adds to it.
   */
  public static final Map<String, String> BUILT_IN_GPU_MODELS =
      Map.of(
          "NVIDIA A100-SXM4-40GB", "A100-SXM-40GB",
          "NVIDIA A100-SXM4-80GB", "A100-SXM-80GB",
          "NVIDIA H100 80GB HBM3", "H100-SXM-80GB",
          "NVIDIA H200", "H200-SXM-141GB",
          "NVIDIA L4", "L4-24GB",
          "NVIDIA L40S", "L40S-48GB");

  /** DCGM writes these for "no value" (DCGM_FP64_BLANK and above; the int32 blanks). */
  private static final double FP64_BLANK = 140737488355328.0;

  private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

  /** What could not become a sample, and why (a bounded reason code and a message). */
  public record Problem(String reason, String message) {}

  /** The samples of one answer and what was left out. */
  public record Result(List<ObjectNode> samples, List<Problem> problems) {}

  private final Map<String, String> gpuModels;
  private final ModelMap models;
  private final int gapIntervals;
  private final ServingModels serving;

  public DcgmMapping(Map<String, String> configuredGpuModels, ModelMap models, int gapIntervals) {
    this(configuredGpuModels, models, gapIntervals, new ServingModels());
  }

  /**
   * @param serving what the vLLM / NIM targets serve: the model of a GPU neither the target's
   *     labels nor the model map name
   */
  public DcgmMapping(
      Map<String, String> configuredGpuModels,
      ModelMap models,
      int gapIntervals,
      ServingModels serving) {
    this.serving = serving;
    Map<String, String> m = new LinkedHashMap<>(BUILT_IN_GPU_MODELS);
    m.putAll(configuredGpuModels);
    this.gpuModels = Map.copyOf(m);
    this.models = models;
    this.gapIntervals = gapIntervals;
  }

  /** One GPU or MIG instance being read. */
  private static final class Device {
    final String uuid;
    final String instanceId;
    final Map<String, Double> values = new LinkedHashMap<>();
    final Map<String, String> labels = new LinkedHashMap<>();
    long maxTimestamp = Long.MIN_VALUE;

    Device(String uuid, String instanceId) {
      this.uuid = uuid;
      this.instanceId = instanceId;
    }

    String label(String k) {
      String v = labels.get(k);
      return v == null || v.isEmpty() ? null : v;
    }

    String name() {
      return instanceId == null ? uuid : uuid + " instance " + instanceId;
    }
  }

  /** Maps one scrape of a target, taken at {@code scrapedAt}. */
  public Result map(PromText.Exposition e, AppConfig.Target target, Instant scrapedAt) {
    Map<String, Device> devices = new LinkedHashMap<>();
    List<Problem> problems = new ArrayList<>();
    for (PromText.Sample s : e.samples()) {
      if (!FIELDS.contains(s.name())) {
        continue;
      }
      String uuid = s.label("UUID");
      if (uuid == null || uuid.isEmpty()) {
        problems.add(new Problem("missing_label", s.name() + " without a UUID label"));
        continue;
      }
      String gi = s.label("GPU_I_ID");
      gi = gi == null || gi.isEmpty() ? null : gi;
      String instance = gi;
      Device d =
          devices.computeIfAbsent(
              uuid + "\u0000" + (gi == null ? "" : gi), k -> new Device(uuid, instance));
      s.labels().forEach(d.labels::putIfAbsent);
      if (s.timestampMs() != null) {
        d.maxTimestamp = Math.max(d.maxTimestamp, s.timestampMs());
      }
      if (Double.isNaN(s.value()) || Double.isInfinite(s.value())) {
        problems.add(new Problem("bad_value", s.name() + " of " + d.name() + " is " + s.value()));
        d.values.put(s.name(), Double.NaN);
        continue;
      }
      if (!blank(s.value())) {
        d.values.put(s.name(), s.value());
      }
    }
    List<ObjectNode> out = new ArrayList<>();
    for (Device d : devices.values()) {
      Device parent = d.instanceId == null ? null : devices.get(d.uuid + "\u0000");
      ObjectNode sample = sample(d, parent, target, scrapedAt, problems);
      if (sample != null) {
        out.add(sample);
      }
    }
    return new Result(out, problems);
  }

  private ObjectNode sample(
      Device d, Device parent, AppConfig.Target target, Instant at, List<Problem> problems) {
    Double util = d.values.get(UTIL);
    if (util == null && d.values.get(GR_ACTIVE) != null) {
      util = d.values.get(GR_ACTIVE) * 100;
    }
    Double used = d.values.get(FB_USED);
    Double free = d.values.get(FB_FREE);
    Double power = d.instanceId == null ? d.values.get(POWER) : Double.valueOf(0);
    Double temp = d.values.get(TEMP);
    if (temp == null && parent != null) {
      temp = parent.values.get(TEMP);
    }
    String missing =
        util == null
            ? UTIL + " (or " + GR_ACTIVE + ")"
            : used == null ? FB_USED : free == null ? FB_FREE : power == null ? POWER : null;
    if (missing == null && temp == null) {
      missing = TEMP;
    }
    if (missing != null) {
      problems.add(new Problem("missing_field", d.name() + ": no " + missing));
      return null;
    }
    if (Double.isNaN(util)
        || Double.isNaN(used)
        || Double.isNaN(free)
        || Double.isNaN(power)
        || Double.isNaN(temp)) {
      return null; // already reported as bad_value
    }
    String gpuModel = gpuModel(d, target);
    if (gpuModel == null) {
      problems.add(
          new Problem(
              "missing_label",
              d.name() + ": no modelName label; set gpu_model= on the target " + target.url()));
      return null;
    }
    Double reserved = d.values.get(FB_RESERVED);
    double total = used + free + (reserved == null ? 0 : reserved);
    ObjectNode o = JSON.objectNode();
    long ts = d.maxTimestamp != Long.MIN_VALUE ? d.maxTimestamp : at.toEpochMilli();
    o.put("ts", Instant.ofEpochMilli(ts).toString());
    o.put("node", node(d, target));
    // The scrapes' own id scope: no API key can pre-empt them (key ids exclude this writer).
    o.put("writer", WRITER);
    o.put("gpu_uuid", d.instanceId == null ? d.uuid : d.uuid + ":gi" + d.instanceId);
    Integer index = integer(d.label("gpu"));
    if (index != null) {
      o.put("gpu_index", index);
    }
    o.put("gpu_model", gpuModel);
    String model = model(d, target);
    if (model != null) {
      o.put("model", model);
    }
    o.put("utilization_pct", util);
    o.put("memory_used_mib", used);
    o.put("memory_total_mib", total);
    o.put("power_w", power);
    Double energy = d.values.get(ENERGY);
    if (energy != null && d.instanceId == null) {
      o.put("energy_mj", (long) Math.floor(energy));
    }
    o.put("temperature_c", temp);
    Double clock = d.values.get(SM_CLOCK);
    if (clock == null && parent != null) {
      clock = parent.values.get(SM_CLOCK);
    }
    if (clock != null && !Double.isNaN(clock)) {
      o.put("sm_clock_mhz", (long) Math.floor(clock));
    }
    Double xid = d.values.get(XID);
    if (xid != null && !Double.isNaN(xid)) {
      o.put("last_xid", (long) Math.floor(xid));
    }
    double interval = target.interval().toMillis() / 1000.0;
    o.put("interval_s", interval);
    o.put("max_gap_s", interval * gapIntervals);
    if (d.instanceId != null) {
      o.put("mig_parent_uuid", d.uuid);
      String profile = d.label("GPU_I_PROFILE");
      if (profile != null) {
        o.put("mig_profile", profile);
      }
      Integer gi = integer(d.instanceId);
      if (gi != null) {
        o.put("mig_instance_id", gi);
      }
    }
    return o;
  }

  private String gpuModel(Device d, AppConfig.Target target) {
    String configured = target.labels().get("gpu_model");
    if (configured != null) {
      return configured;
    }
    String name = d.label("modelName");
    return name == null ? null : gpuModels.getOrDefault(name, name);
  }

  private String model(Device d, AppConfig.Target target) {
    String configured = target.labels().get("model");
    if (configured != null) {
      return configured;
    }
    String ns = target.labels().getOrDefault("namespace", d.label("namespace"));
    String pod = target.labels().getOrDefault("pod", d.label("pod"));
    String container = target.labels().getOrDefault("container", d.label("container"));
    String mapped = models.modelOf(ns, pod, container);
    return mapped != null ? mapped : serving.modelOf(d.uuid, ns, pod);
  }

  private static String node(Device d, AppConfig.Target target) {
    String n = target.labels().get("node");
    if (n == null) {
      n = d.label("Hostname") != null ? d.label("Hostname") : d.label("hostname");
    }
    if (n == null) {
      n = URI.create(target.url()).getHost();
    }
    String clean = n.replaceAll("[^A-Za-z0-9._:-]", "-");
    return clean.isEmpty() || !Character.isLetterOrDigit(clean.charAt(0)) ? "n" + clean : clean;
  }

  private static boolean blank(double v) {
    return v >= FP64_BLANK || (v >= 2147483632.0 && v <= 2147483647.0);
  }

  private static Integer integer(String s) {
    if (s == null) {
      return null;
    }
    try {
      return Integer.valueOf(s);
    } catch (NumberFormatException e) {
      return null;
    }
  }
}
