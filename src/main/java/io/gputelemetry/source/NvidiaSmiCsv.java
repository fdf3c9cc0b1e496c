package io.gputelemetry.source;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code nvidia-smi --query-gpu=... --format=csv,noheader,nounits} lines to GPU samples
 * (gpu.metrics.v1 bodies, validated by the caller). Values are {@code ", "}-separated in the order
 * queried; {@code [N/A]}, {@code [Not Supported]} and any other bracketed words mean "no value".
 * Optional fields are queried only when the driver lists them in {@code --help-query-gpu} (asking
 * for an unknown field makes nvidia-smi exit).
 */
public final class NvidiaSmiCsv {
  /** The writer of every sample read from nvidia-smi (no API key may take this id). */
  public static final String WRITER = "nvidia-smi";

  static final String TIMESTAMP = "timestamp";
  static final String INDEX = "index";
  static final String UUID = "uuid";
  static final String NAME = "name";
  static final String UTIL = "utilization.gpu";
  static final String MEM_USED = "memory.used";
  static final String MEM_TOTAL = "memory.total";
  static final String POWER = "power.draw";
  static final String TEMP = "temperature.gpu";
  static final String SM_CLOCK = "clocks.current.sm";
  static final String ENERGY = "total_energy_consumption";
  static final String MIG_MODE = "mig.mode.current";

  /** Queried always: every driver has them. */
  static final List<String> REQUIRED =
      List.of(TIMESTAMP, INDEX, UUID, NAME, UTIL, MEM_USED, MEM_TOTAL, POWER, TEMP);

  /** Queried when the driver lists them. */
  static final List<String> OPTIONAL = List.of(SM_CLOCK, ENERGY, MIG_MODE);

  private static final DateTimeFormatter STAMP =
      DateTimeFormatter.ofPattern("yyyy/MM/dd HH:mm:ss.SSS");
  private static final Pattern QUOTED = Pattern.compile("\"([A-Za-z0-9_.]+)\"");
  private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

  /** What could not become a sample, and why (a reason of SourceMeters.REASONS, a message). */
  public record Problem(String reason, String message) {}

  /** One line: a sample, or the problem. */
  public record Line(ObjectNode sample, Problem problem) {}

  /** Where the samples come from and how they are stamped. */
  public record Stamp(
      String node,
      String model,
      Map<String, String> gpuModels,
      double intervalS,
      double maxGapS,
      ZoneId zone) {}

  private final List<String> fields;
  private final Stamp stamp;

  /** A reader of the lines of a query of these fields (in this order). */
  public NvidiaSmiCsv(List<String> fields, Stamp stamp) {
    this.fields = List.copyOf(fields);
    this.stamp = stamp;
  }

  /** The fields to query: the required ones, and the optional ones the driver lists. */
  public static List<String> fields(String helpQueryGpu) {
    Set<String> known = new TreeSet<>();
    for (String line : helpQueryGpu.split("\n", -1)) {
      if (line.startsWith("\"")) {
        Matcher m = QUOTED.matcher(line);
        while (m.find()) {
          known.add(m.group(1));
        }
      }
    }
    List<String> out = new ArrayList<>(REQUIRED);
    for (String f : OPTIONAL) {
      if (known.contains(f)) {
        out.add(f);
      }
    }
    return out;
  }

  /** The command line of the loop. */
  public static List<String> command(
      String path, List<String> fields, long intervalMs, List<String> extraArgs) {
    List<String> cmd = new ArrayList<>();
    cmd.add(path);
    cmd.add("--query-gpu=" + String.join(",", fields));
    cmd.add("--format=csv,noheader,nounits");
    cmd.add("-lms");
    cmd.add(Long.toString(intervalMs));
    cmd.addAll(extraArgs);
    return cmd;
  }

  public List<String> fields() {
    return fields;
  }

  /** Reads one line, received at {@code now}. */
  public Line read(String line, Instant now) {
    String[] parts = line.split(", ", -1);
    if (parts.length != fields.size()) {
      return problem(
          "parse",
          "expected "
              + fields.size()
              + " comma-separated values, got "
              + parts.length
              + ": "
              + abbreviate(line));
    }
    Map<String, String> v = new LinkedHashMap<>();
    for (int i = 0; i < parts.length; i++) {
      String s = parts[i].trim();
      if (!s.isEmpty() && !(s.startsWith("[") && s.endsWith("]")) && !s.equals("N/A")) {
        v.put(fields.get(i), s);
      }
    }
    String uuid = v.get(UUID);
    if (uuid == null) {
      return problem("missing_field", "no uuid: " + abbreviate(line));
    }
    ObjectNode o = JSON.objectNode();
    Instant ts = now;
    if (v.get(TIMESTAMP) != null) {
      try {
        ts = LocalDateTime.parse(v.get(TIMESTAMP), STAMP).atZone(stamp.zone()).toInstant();
      } catch (DateTimeParseException e) {
        return problem(
            "bad_value",
            uuid + ": timestamp '" + v.get(TIMESTAMP) + "' is not yyyy/MM/dd HH:mm:ss.SSS");
      }
    }
    o.put("ts", ts.toString());
    o.put("node", stamp.node());
    o.put("writer", WRITER);
    o.put("gpu_uuid", uuid);
    String name = v.get(NAME);
    if (name == null) {
      return problem("missing_field", uuid + ": no name (the GPU model)");
    }
    o.put(
        "gpu_model",
        stamp
            .gpuModels()
            .getOrDefault(name, DcgmMapping.BUILT_IN_GPU_MODELS.getOrDefault(name, name)));
    if (stamp.model() != null) {
      o.put("model", stamp.model());
    }
    for (String f : List.of(UTIL, MEM_USED, MEM_TOTAL, POWER, TEMP)) {
      if (v.get(f) == null) {
        String why =
            f.equals(UTIL) && "Enabled".equals(v.get(MIG_MODE))
                ? " (MIG mode is on: nvidia-smi reports no whole-GPU utilisation; the DCGM exporter"
                    + " reports MIG instances)"
                : "";
        return problem("missing_field", uuid + ": " + f + " has no value" + why);
      }
    }
    try {
      put(o, "gpu_index", v.get(INDEX), true);
      put(o, "utilization_pct", v.get(UTIL), false);
      put(o, "memory_used_mib", v.get(MEM_USED), false);
      put(o, "memory_total_mib", v.get(MEM_TOTAL), false);
      put(o, "power_w", v.get(POWER), false);
      put(o, "temperature_c", v.get(TEMP), false);
      put(o, "sm_clock_mhz", v.get(SM_CLOCK), true);
      put(o, "energy_mj", v.get(ENERGY), true);
    } catch (NumberFormatException e) {
      return problem("bad_value", uuid + ": " + e.getMessage());
    }
    o.put("interval_s", stamp.intervalS());
    o.put("max_gap_s", stamp.maxGapS());
    return new Line(o, null);
  }

  private static void put(ObjectNode o, String field, String value, boolean integer) {
    if (value == null) {
      return;
    }
    double d;
    try {
      d = Double.parseDouble(value);
    } catch (NumberFormatException e) {
      throw new NumberFormatException(field + " '" + abbreviate(value) + "' is not a number");
    }
    if (!Double.isFinite(d)) {
      throw new NumberFormatException(
          field + " '" + abbreviate(value) + "' is not a finite number");
    }
    if (integer) {
      o.put(field, (long) Math.floor(d));
    } else {
      o.put(field, d);
    }
  }

  private static Line problem(String reason, String message) {
    return new Line(null, new Problem(reason, message));
  }

  private static String abbreviate(String s) {
    return s.length() <= 120 ? s : s.substring(0, 120) + "...";
  }
}
