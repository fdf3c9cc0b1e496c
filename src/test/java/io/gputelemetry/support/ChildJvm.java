package io.gputelemetry.support;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A main class of the test classpath run in its own JVM, output captured (a store, a Kafka broker).
 */
public final class ChildJvm implements AutoCloseable {
  private final Process process;
  private final List<String> lines = new CopyOnWriteArrayList<>();
  private final String name;

  private ChildJvm(String name, Process process) {
    this.name = name;
    this.process = process;
    Thread reader =
        new Thread(
            () -> {
              try (BufferedReader r =
                  new BufferedReader(
                      new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                  lines.add(line);
                  if (lines.size() > 20_000) {
                    lines.remove(0);
                  }
                }
              } catch (IOException e) {
                // process gone
              }
            },
            name + "-output");
    reader.setDaemon(true);
    reader.start();
  }

  /**
   * The test classpath as the test runner knows it (the runner's own may be a manifest-only jar).
   */
  public static String classpath() {
    String cp = System.getProperty("surefire.test.class.path");
    return cp != null && !cp.isBlank() ? cp : System.getProperty("java.class.path");
  }

  public static ChildJvm start(String name, String heap, String mainClass, String... args)
      throws IOException {
    List<String> cmd =
        new ArrayList<>(
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx" + heap,
                "-XX:+UseSerialGC",
                "-cp",
                classpath(),
                mainClass));
    cmd.addAll(List.of(args));
    return new ChildJvm(name, new ProcessBuilder(cmd).redirectErrorStream(true).start());
  }

  public String find(Pattern p) {
    for (String l : lines) {
      Matcher m = p.matcher(l);
      if (m.find()) {
        return m.group(1);
      }
    }
    return null;
  }

  public String output() {
    return String.join("\n", lines);
  }

  public String tail(int n) {
    List<String> l = new ArrayList<>(lines);
    return String.join("\n", l.subList(Math.max(0, l.size() - n), l.size()));
  }

  public boolean alive() {
    return process.isAlive();
  }

  public long pid() {
    return process.pid();
  }

  public int waitFor(long seconds) throws InterruptedException {
    if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
      throw new IllegalStateException(
          name + " still running after " + seconds + " s:\n" + tail(50));
    }
    return process.exitValue();
  }

  /** SIGKILL, and wait until it is gone. */
  public void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(30, TimeUnit.SECONDS);
  }

  @Override
  public void close() {
    process.destroyForcibly();
    try {
      process.waitFor(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
