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

  private GpuProfiles(Map<String, Profile> profiles) {
    this.profiles = profiles;
  }

  public static GpuProfiles load() {
    try (InputStream in = GpuProfiles.class.getClassLoader().getResourceAsStream(RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException(RESOURCE + " missing from the classpath");
      }
      JsonNode root = Json.MAPPER.readTree(in);
      Map<String, Profile> m = new LinkedHashMap<>();
      for (JsonNode p : root.path("profiles")) {
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
      return new GpuProfiles(m);
    } catch (IOException e) {
      throw new IllegalStateException("cannot read " + RESOURCE, e);
    }
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
