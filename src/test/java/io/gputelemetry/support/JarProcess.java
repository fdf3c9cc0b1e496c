package io.gputelemetry.support;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The built jar run as a user runs it, in its own JVM, with its output captured line by line. */
public final class JarProcess implements AutoCloseable {
  private final Process process;
  private final List<String> lines = new CopyOnWriteArrayList<>();
  private final Thread reader;

  private JarProcess(Process process) {
    this.process = process;
    reader =
        new Thread(
            () -> {
              try (BufferedReader r =
                  new BufferedReader(
                      new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                  lines.add(line);
                }
              } catch (IOException e) {
                // process gone
              }
            },
            "jar-output");
    reader.setDaemon(true);
    reader.start();
  }

  public static Path jar() {
    Path p = Path.of(System.getProperty("gpu-telemetry.jar", "target/gpu-telemetry.jar"));
    if (!Files.exists(p)) {
      throw new IllegalStateException(
          p + " not built: run `mvn verify` (the package phase builds it)");
    }
    return p;
  }

  public static JarProcess start(String... args) throws IOException {
    List<String> cmd =
        new ArrayList<>(
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx512m",
                "-jar",
                jar().toString()));
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().entrySet().removeIf(e -> e.getKey().startsWith("GPUTEL_"));
    return new JarProcess(pb.start());
  }

  /** Runs to completion and returns the exit code. */
  public int waitFor(long seconds) throws InterruptedException {
    if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
      throw new IllegalStateException(
          "jar still running after " + seconds + " s; output:\n" + output());
    }
    drain();
    return process.exitValue();
  }

  /** Waits (bounded) until the output reader has read everything the exited process wrote. */
  private void drain() throws InterruptedException {
    reader.join(TimeUnit.SECONDS.toMillis(10));
    if (reader.isAlive()) {
      throw new IllegalStateException("the jar's output was not read to its end in 10 s");
    }
  }

  /**
   * Stops the process (SIGTERM, then SIGKILL after {@code seconds}) and reads its output to the
   * end.
   */
  public void stopAndDrain(long seconds) throws InterruptedException {
    process.destroy();
    if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      process.waitFor(seconds, TimeUnit.SECONDS);
    }
    drain();
  }

  public List<String> lines() {
    return lines;
  }

  public String output() {
    return String.join("\n", lines);
  }

  /** The first group of the first output line matching the pattern, or null. */
  public String find(Pattern p) {
    for (String l : lines) {
      Matcher m = p.matcher(l);
      if (m.find()) {
        return m.group(1);
      }
    }
    return null;
  }

  public long pid() {
    return process.pid();
  }

  public boolean alive() {
    return process.isAlive();
  }

  /** SIGTERM: a graceful stop. */
  public void terminate() {
    process.destroy();
  }

  @Override
  public void close() {
    process.destroyForcibly();
  }
}
