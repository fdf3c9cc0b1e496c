package io.gputelemetry.producer;

import io.gputelemetry.config.AppConfig;
import io.gputelemetry.event.Event;
import io.gputelemetry.event.EventParser;
import io.gputelemetry.event.EventType;
import io.gputelemetry.event.ParseResult;
import io.gputelemetry.metrics.SourceMeters;
import io.gputelemetry.source.NvidiaSmiCsv;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * Runs {@code nvidia-smi} in loop mode as a child process and publishes a GPU sample per line,
 * through the same validation and publisher as every source. The child's output is read on a
 * dedicated thread (never an event loop); a child that exits, or cannot start, is restarted after a
 * back-off that doubles up to its maximum and returns to the initial one once a run gave samples.
 * Lines longer than sources.max-line-chars are cut off and counted, never buffered.
 */
public final class NvidiaSmiVerticle extends VerticleBase {
  /** The source label of what nvidia-smi produces. */
  public static final String SOURCE = "nvidia-smi";

  private static final Logger LOG = LogManager.getLogger(NvidiaSmiVerticle.class);

  private final AppConfig.NvidiaSmi config;
  private final NvidiaSmiCsv.Stamp stamp;
  private final int maxLineChars;
  private final Duration warnEvery;
  private final EventParser parser;
  private final EventPublisher publisher;
  private final SourceMeters.Target meters;
  private final Future<Void> ready;
  private final TargetHealth health;
  private volatile boolean stopping;
  private volatile Process process;
  private volatile Thread reader;
  private long timer = -1;
  private Duration backoff;
  private long lastProblemLog;

  /**
   * @param ready completes when the topics exist; the child starts then
   */
  public NvidiaSmiVerticle(
      AppConfig.NvidiaSmi config,
      NvidiaSmiCsv.Stamp stamp,
      AppConfig.Sources sources,
      EventParser parser,
      EventPublisher publisher,
      SourceMeters meters,
      Future<Void> ready) {
    this.config = config;
    this.stamp = stamp;
    this.maxLineChars = sources.maxLineChars();
    this.warnEvery = sources.warnEvery();
    this.parser = parser;
    this.publisher = publisher;
    this.meters = meters.target(SOURCE, config.path());
    this.ready = ready;
    this.health =
        new TargetHealth("source " + SOURCE + " " + config.path(), "run", sources.warnEvery());
    this.backoff = config.restartBackoff();
  }

  @Override
  public Future<?> start() {
    ready.onSuccess(v -> launch());
    return Future.succeededFuture();
  }

  /** On the context: asks the driver which fields it has, then starts the loop. */
  private void launch() {
    if (stopping) {
      return;
    }
    long t0 = System.nanoTime();
    vertx
        .executeBlocking(
            () -> NvidiaSmiCsv.fields(runOnce(config.path(), "--help-query-gpu")), false)
        .onComplete(
            ar -> {
              if (ar.failed()) {
                exited(
                    t0,
                    "cannot run " + config.path() + " --help-query-gpu: " + ar.cause().getMessage(),
                    0);
                return;
              }
              startLoop(ar.result(), t0);
            });
  }

  private void startLoop(List<String> fields, long t0) {
    if (stopping) {
      return;
    }
    List<String> cmd =
        NvidiaSmiCsv.command(
            config.path(), fields, config.interval().toMillis(), config.extraArgs());
    NvidiaSmiCsv csv = new NvidiaSmiCsv(fields, stamp);
    Process p;
    try {
      p = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.PIPE).start();
      p.getOutputStream().close();
    } catch (IOException e) {
      exited(t0, "cannot start " + String.join(" ", cmd) + ": " + e.getMessage(), 0);
      return;
    }
    process = p;
    LOG.info("nvidia-smi source: running {}", String.join(" ", cmd));
    AtomicInteger samples = new AtomicInteger();
    StringBuilder lastError = new StringBuilder();
    Thread err = daemon("nvidia-smi-stderr", () -> drain(p.getErrorStream(), lastError));
    Thread out =
        daemon(
            "nvidia-smi-stdout",
            () -> {
              try {
                readLines(p.getInputStream(), line -> onLine(csv, line, samples));
              } catch (IOException e) {
                // the child went away; its exit is handled below
              }
              int code = waitFor(p);
              joinQuietly(err);
              String why;
              synchronized (lastError) {
                why = lastError.length() == 0 ? "" : ": " + lastError;
              }
              context.runOnContext(
                  v -> exited(t0, "nvidia-smi exited with code " + code + why, samples.get()));
            });
    reader = out;
    err.start();
    out.start();
  }

  /** On the reader thread: one line to a sample, validated, and handed to the publisher. */
  private void onLine(NvidiaSmiCsv csv, String line, AtomicInteger samples) {
    if (line == null) {
      problem("too_large", "a line longer than sources.max-line-chars (" + maxLineChars + ")");
      return;
    }
    if (line.isBlank()) {
      return;
    }
    long t0 = System.nanoTime();
    Instant now = Instant.now();
    NvidiaSmiCsv.Line l = csv.read(line, now);
    if (l.problem() != null) {
      problem(l.problem().reason(), l.problem().message());
      return;
    }
    ParseResult pr = parser.parse(EventType.GPU_SAMPLE, l.sample(), now, null);
    if (!pr.ok()) {
      problem("invalid", l.sample().path("gpu_uuid").asText() + ": " + pr.violations());
      return;
    }
    samples.incrementAndGet();
    Event e = pr.event();
    context.runOnContext(
        v ->
            publisher
                .publishAll(List.of(e), SOURCE)
                .onComplete(
                    ar -> {
                      long millis = System.currentTimeMillis();
                      if (ar.succeeded() && ar.result().failed() == 0) {
                        meters.succeeded(System.nanoTime() - t0, millis, 1);
                        health.succeeded(millis);
                        backoff = config.restartBackoff();
                      } else {
                        meters.rejected("kafka", 1);
                      }
                    }));
  }

  private void problem(String reason, String message) {
    meters.rejected(reason, 1);
    long now = System.currentTimeMillis();
    synchronized (this) {
      if (now - lastProblemLog < warnEvery.toMillis()) {
        return;
      }
      lastProblemLog = now;
    }
    LOG.warn(
        "nvidia-smi source: a line left out ({}): {} (next report in {} s at the earliest)",
        reason,
        message,
        warnEvery.toSeconds());
  }

  /** On the context: the child ended (or never started); restart it after the back-off. */
  private void exited(long t0, String why, int samples) {
    process = null;
    if (stopping) {
      return;
    }
    long now = System.currentTimeMillis();
    meters.failed("exited", System.nanoTime() - t0);
    health.failed(new ScrapeFailure("exited", why), now);
    Duration wait = backoff;
    // A run that gave samples was healthy for a while: start again from the initial back-off.
    backoff =
        samples > 0
            ? config.restartBackoff()
            : min(backoff.multipliedBy(2), config.maxRestartBackoff());
    // TargetHealth logs the failure (once per sources.warn-every while it lasts); this says when.
    LOG.debug("nvidia-smi source: {}; restarting in {} ms", why, wait.toMillis());
    timer = vertx.setTimer(Math.max(1, wait.toMillis()), id -> launch());
  }

  /**
   * Calls {@code sink} with each line of the stream; a line over the limit is passed as null (and
   * the rest of it skipped), so memory stays bounded whatever the child prints.
   */
  void readLines(InputStream in, java.util.function.Consumer<String> sink) throws IOException {
    Reader r = new InputStreamReader(in, StandardCharsets.UTF_8);
    StringBuilder sb = new StringBuilder();
    boolean tooLong = false;
    char[] buf = new char[8192];
    int n;
    while ((n = r.read(buf)) >= 0) {
      for (int i = 0; i < n; i++) {
        char c = buf[i];
        if (c == '\n') {
          sink.accept(tooLong ? null : stripCr(sb));
          sb.setLength(0);
          tooLong = false;
        } else if (!tooLong) {
          if (sb.length() >= maxLineChars) {
            tooLong = true;
            sb.setLength(0);
          } else {
            sb.append(c);
          }
        }
      }
    }
    if (tooLong || sb.length() > 0) {
      sink.accept(tooLong ? null : stripCr(sb));
    }
  }

  private static String stripCr(StringBuilder sb) {
    int len = sb.length();
    return len > 0 && sb.charAt(len - 1) == '\r' ? sb.substring(0, len - 1) : sb.toString();
  }

  /** Keeps the last line the child wrote to stderr (at most 500 characters), drops the rest. */
  private static void drain(InputStream err, StringBuilder last) {
    try (Reader r = new InputStreamReader(err, StandardCharsets.UTF_8)) {
      StringBuilder line = new StringBuilder();
      int c;
      while ((c = r.read()) >= 0) {
        if (c == '\n') {
          if (!line.toString().isBlank()) {
            synchronized (last) {
              last.setLength(0);
              last.append(line);
            }
          }
          line.setLength(0);
        } else if (line.length() < 500) {
          line.append((char) c);
        }
      }
    } catch (IOException e) {
      // the child went away
    }
  }

  /** Runs {@code path arg} to completion (on a worker) and returns its standard output. */
  private String runOnce(String path, String arg) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(path, arg).redirectErrorStream(true).start();
    p.getOutputStream().close();
    StringBuilder out = new StringBuilder();
    Thread t =
        daemon(
            "nvidia-smi-help",
            () -> {
              try {
                readLines(
                    p.getInputStream(),
                    line -> {
                      if (line != null && out.length() < 4 * 1024 * 1024) {
                        out.append(line).append('\n');
                      }
                    });
              } catch (IOException e) {
                // ended
              }
            });
    t.start();
    if (!p.waitFor(30, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IOException("no answer within 30 s");
    }
    t.join(5_000);
    if (p.exitValue() != 0) {
      throw new IOException("exit code " + p.exitValue() + ": " + out.toString().strip());
    }
    return out.toString();
  }

  private static Thread daemon(String name, Runnable r) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    return t;
  }

  private static int waitFor(Process p) {
    try {
      return p.waitFor();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }

  private static void joinQuietly(Thread t) {
    try {
      t.join(2_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static Duration min(Duration a, Duration b) {
    return a.compareTo(b) <= 0 ? a : b;
  }

  @Override
  public Future<?> stop() {
    stopping = true;
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
    Process p = process;
    Thread t = reader;
    if (p == null) {
      return Future.succeededFuture();
    }
    Promise<Void> done = Promise.promise();
    vertx
        .executeBlocking(
            () -> {
              p.destroy();
              if (!p.waitFor(5, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
              }
              if (t != null) {
                t.join(5_000);
              }
              return null;
            },
            false)
        .onComplete(ar -> done.complete());
    return done.future();
  }
}
