package io.gputelemetry.producer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.SecureRandom;

/**
 * The run id that prefixes simulated event ids. With a data directory it is a counter kept there,
 * so a restart with the same seed and --data-dir never re-emits an id already stored; without one
 * it is the start time plus randomness.
 */
public final class RunIds {
  static final String FILE = "simulator-run";

  private RunIds() {}

  public static String next(Path dataDir) {
    if (dataDir == null) {
      return Long.toString(System.currentTimeMillis(), 36)
          + String.format("%04x", new SecureRandom().nextInt(1 << 16));
    }
    try {
      Files.createDirectories(dataDir);
      Path file = dataDir.resolve(FILE);
      long n = 0;
      if (Files.exists(file)) {
        n = Long.parseLong(Files.readString(file, StandardCharsets.UTF_8).trim());
      }
      n++;
      Path tmp = dataDir.resolve(FILE + ".tmp");
      Files.writeString(tmp, Long.toString(n), StandardCharsets.UTF_8);
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      return "n" + n;
    } catch (IOException | NumberFormatException e) {
      throw new IllegalStateException(
          "cannot keep the simulator run counter in " + dataDir + ": " + e.getMessage(), e);
    }
  }
}
