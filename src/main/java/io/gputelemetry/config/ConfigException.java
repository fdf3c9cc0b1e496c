package io.gputelemetry.config;

/** A setting is missing or malformed; the message names the key and what was expected. */
public class ConfigException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public ConfigException(String message) {
    super(message, null, false, false);
  }

  public static ConfigException bad(String key, String expected, String got) {
    return new ConfigException(
        "setting '"
            + key
            + "' (env "
            + Settings.envName(key)
            + "): expected "
            + expected
            + ", got '"
            + got
            + "'");
  }
}
