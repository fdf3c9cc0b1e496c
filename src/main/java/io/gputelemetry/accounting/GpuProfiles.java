package io.gputelemetry.accounting;

import com.fasterxml.jackson.databind.JsonNode;
import io.gputelemetry.config.ConfigException;
import io.gputelemetry.json.Json;
import java.io.IOException;
import java.io.InputStream;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * GPU models with their memory and power envelope (conf/gpu-profiles.json); prices are in the
 * {@link PriceBook}.
 */
public final class GpuProfiles {
  public static final String RESOURCE = "conf/gpu-profiles.json";

  /** One GPU model. */
  public record Profile(
      String name,
      String vendor,
      int memoryMib,
      double idlePowerW,
      double maxPowerW,
      int maxSmClockMhz,
      double simTokensPerSecond) {}

  private final Map<String, Profile> profiles;

  /** Per GPU model, per MIG profile: the share of the GPU it takes (compute slices / all). */
  private final Map<String, Map<String, Double>> migShares;

  private GpuProfiles(Map<String, Profile> profiles, Map<String, Map<String, Double>> migShares) {
    this.profiles = profiles;
    this.migShares = migShares;
  }

  /**
   * The share of a GPU of the model that a MIG instance of the profile takes (its compute slices
   * over the GPU's), or null when the table does not know the GPU model or the profile.
   */
  public Double migShare(String gpuModel, String migProfile) {
    return migShares.getOrDefault(gpuModel, Map.of()).get(migProfile);
  }

  /** Reads a profile's MIG table: each profile's slices, 1 to compute_slices. */
  static Map<String, Double> migTable(JsonNode mig, String gpuModel) {
    Map<String, Double> shares = new LinkedHashMap<>();
    int all = mig.path("compute_slices").asInt(0);
    mig.path("profiles")
        .fields()
        .forEachRemaining(
            e -> {
              int slices = e.getValue().asInt(0);
              if (all <= 0 || slices <= 0 || slices > all || !e.getValue().isInt()) {
                throw new IllegalStateException(
                    RESOURCE
                        + ": "
                        + gpuModel
                        + " MIG profile "
                        + e.getKey()
                        + " needs 1 to compute_slices ("
                        + all
                        + ") slices, not "
                        + e.getValue());
              }
              shares.put(e.getKey(), slices / (double) all);
            });
    return Map.copyOf(shares);
  }

  public static GpuProfiles load() {
    try (InputStream in = GpuProfiles.class.getClassLoader().getResourceAsStream(RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException(RESOURCE + " missing from the classpath");
      }
      return parse(Json.MAPPER.readTree(in));
    } catch (IOException e) {
      throw new IllegalStateException("cannot read " + RESOURCE, e);
    }
  }

  /**
   * The built-in table ({@code file} null), or the file given by accounting.gpu-profiles, in the
   * format of conf/gpu-profiles.json.
   */
  public static GpuProfiles load(java.nio.file.Path file) {
    if (file == null) {
      return load();
    }
    try (InputStream in = java.nio.file.Files.newInputStream(file)) {
      return parse(Json.MAPPER.readTree(in));
    } catch (IOException | IllegalStateException e) {
      throw new io.gputelemetry.config.ConfigException(
          "setting 'accounting.gpu-profiles': cannot read " + file + ": " + e.getMessage());
    }
  }

  private static GpuProfiles parse(JsonNode root) {
    Map<String, Profile> m = new LinkedHashMap<>();
    Map<String, Map<String, Double>> mig = new LinkedHashMap<>();
    for (JsonNode p : root.path("profiles")) {
      if (p.has("mig")) {
        mig.put(p.path("name").asText(), migTable(p.path("mig"), p.path("name").asText()));
      }
      Profile prof =
          new Profile(
              p.path("name").asText(),
              p.path("vendor").asText(),
              p.path("memory_mib").asInt(),
              p.path("idle_power_w").asDouble(),
              p.path("max_power_w").asDouble(),
              p.path("max_sm_clock_mhz").asInt(),
              p.path("sim_tokens_per_second").asDouble());
      m.put(prof.name(), prof);
    }
    return new GpuProfiles(m, Map.copyOf(mig));
  }

  public Profile get(String name) {
    return profiles.get(name);
  }

  /** The profile, or a start-up error naming the setting and the known names. */
  public Profile require(String name, String settingKey) {
    Profile p = profiles.get(name);
    if (p == null) {
      throw ConfigException.bad(
          settingKey, "GPU model names from " + RESOURCE + " " + profiles.keySet(), name);
    }
    return p;
  }

  public Map<String, Profile> all() {
    return profiles;
  }
}
