package io.gputelemetry;

import io.gputelemetry.access.KeyFile;
import io.gputelemetry.config.ConfigException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * {@code keys hash}: the key-file line of a key read on stdin, so that the key itself never appears
 * on a command line (shell history, process list) nor in the file.
 */
final class KeysCommand {
  private KeysCommand() {}

  static String run(List<String> args, InputStream in) {
    if (args.isEmpty() || !args.get(0).equals("hash")) {
      throw new ConfigException(
          "expected `keys hash --id ID --scopes S1,S2 [--tenant T | --nodes N1,N2]` (see --help)");
    }
    String id = null;
    String scopes = null;
    String binding = null;
    for (int i = 1; i < args.size(); i += 2) {
      String flag = args.get(i);
      if (i + 1 >= args.size()) {
        throw new ConfigException(flag + " needs a value");
      }
      String value = args.get(i + 1);
      switch (flag) {
        case "--id" -> id = value;
        case "--scopes" -> scopes = value;
        case "--tenant", "--nodes" -> {
          if (binding != null) {
            throw new ConfigException("give --tenant or --nodes, not both");
          }
          binding = flag.substring(2) + "=" + value;
        }
        default -> throw new ConfigException("unknown option '" + flag + "'");
      }
    }
    if (id == null || scopes == null) {
      throw new ConfigException("--id and --scopes are required");
    }
    String key;
    try {
      key = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8)).readLine();
    } catch (IOException e) {
      throw new ConfigException("cannot read the key on stdin: " + e.getMessage());
    }
    if (key == null || key.isBlank()) {
      throw new ConfigException(
          "no key on stdin (e.g. `openssl rand -hex 32 | tee key | java -jar"
              + " gpu-telemetry.jar keys hash --id ID --scopes read`)");
    }
    return KeyFile.line(id, key.strip(), scopes, binding);
  }
}
