package io.gputelemetry.support;

import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/** The built jar as a processor in its own JVM, configured with --set for every setting given. */
public final class ProcessorJar implements AutoCloseable {
  private static final Pattern HTTP = Pattern.compile("http://127\\.0\\.0\\.1:(\\d+)/");
  private static final Pattern CONSUMING = Pattern.compile("(processor consuming)");
  private final JarProcess jar;
  private final int port;

  private ProcessorJar(JarProcess jar, int port) {
    this.jar = jar;
    this.port = port;
  }

  /** Starts it and waits until its HTTP port is bound. */
  public static ProcessorJar start(Map<String, String> settings) throws Exception {
    List<String> args = new ArrayList<>();
    for (Map.Entry<String, String> e : settings.entrySet()) {
      args.add("--set");
      args.add(e.getKey() + "=" + e.getValue());
    }
    args.add("--set");
    args.add("role=processor");
    JarProcess jar = JarProcess.start(args.toArray(String[]::new));
    try {
      await().atMost(Duration.ofSeconds(60)).until(() -> jar.find(HTTP) != null || !jar.alive());
    } catch (RuntimeException e) {
      jar.close();
      throw e;
    }
    String p = jar.find(HTTP);
    if (p == null) {
      throw new IllegalStateException("processor jar did not start:\n" + jar.output());
    }
    return new ProcessorJar(jar, Integer.parseInt(p));
  }

  public ProcessorJar awaitConsuming() {
    await().atMost(Duration.ofSeconds(60)).until(() -> jar.find(CONSUMING) != null || !jar.alive());
    return this;
  }

  public int port() {
    return port;
  }

  public long pid() {
    return jar.pid();
  }

  public boolean alive() {
    return jar.alive();
  }

  public String metrics() {
    return Prom.scrape(port);
  }

  public String output() {
    return jar.output();
  }

  /** Its output so far, line by line. */
  public List<String> lines() {
    return jar.lines();
  }

  /** A graceful stop; returns once its output has been read to the end. */
  public void stopAndDrain(long seconds) throws Exception {
    jar.stopAndDrain(seconds);
  }

  /** SIGKILL: no shutdown hook, nothing flushed; returns once the process is gone. */
  public void kill() throws Exception {
    ProcessHandle h = ProcessHandle.of(jar.pid()).orElse(null);
    if (h != null) {
      h.destroyForcibly();
      h.onExit().get(30, TimeUnit.SECONDS);
    }
  }

  /** SIGTERM (a graceful stop); returns the exit code, or throws if it outlives {@code seconds}. */
  public int terminate(long seconds) throws Exception {
    jar.terminate();
    return jar.waitFor(seconds);
  }

  @Override
  public void close() {
    jar.close();
  }
}
