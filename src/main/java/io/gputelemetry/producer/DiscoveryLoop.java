package io.gputelemetry.producer;

import io.gputelemetry.config.AppConfig;
import io.gputelemetry.discovery.Discovery;
import io.gputelemetry.discovery.DiscoveryException;
import io.gputelemetry.metrics.SourceMeters;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * Refreshes every discovery at a fixed period and tells its listener which targets appeared and
 * which are gone. A refresh that fails changes nothing: the targets found before keep being
 * scraped, the failure is counted and logged as a warning (once, then every warn-every while it
 * lasts), never fatal. Runs on the event loop of the verticle that starts it.
 */
final class DiscoveryLoop {
  private static final Logger LOG = LogManager.getLogger(SourcesVerticle.class);

  /** Told of each change; {@code owner} is the discovery's id. */
  interface Listener {
    void found(String owner, AppConfig.Target target);

    void lost(String owner, AppConfig.Target target);
  }

  private final Vertx vertx;
  private final Duration refresh;
  private final Listener listener;
  private final List<State> states = new ArrayList<>();
  private long timer = -1;
  private boolean stopped;

  /** One discovery, its current targets, its meters and log state. */
  private static final class State {
    final Discovery discovery;
    final SourceMeters.Discovery meters;
    final TargetHealth health;
    Map<String, AppConfig.Target> current = new LinkedHashMap<>();
    boolean inFlight;

    State(Discovery d, SourceMeters meters, Duration warnEvery) {
      this.discovery = d;
      this.meters = meters.discovery(d.kind(), d.id(), DiscoveryException.REASONS);
      this.health = new TargetHealth("discovery " + d.kind() + " " + d.id(), "refresh", warnEvery);
    }
  }

  DiscoveryLoop(
      Vertx vertx,
      List<Discovery> discoveries,
      Duration refresh,
      Duration warnEvery,
      SourceMeters meters,
      Listener listener) {
    this.vertx = vertx;
    this.refresh = refresh;
    this.listener = listener;
    discoveries.forEach(d -> states.add(new State(d, meters, warnEvery)));
  }

  void start() {
    if (states.isEmpty()) {
      return;
    }
    refreshAll();
    timer = vertx.setPeriodic(refresh.toMillis(), id -> refreshAll());
  }

  void stop() {
    stopped = true;
    vertx.cancelTimer(timer);
  }

  /** The targets each discovery found last (for tests and logs). */
  int targets() {
    return states.stream().mapToInt(s -> s.current.size()).sum();
  }

  private void refreshAll() {
    states.forEach(this::refresh);
  }

  private void refresh(State s) {
    if (stopped || s.inFlight) {
      return; // the one before is still waiting for its answer (bounded by its timeout)
    }
    s.inFlight = true;
    s.discovery
        .refresh()
        .onComplete(
            ar -> {
              s.inFlight = false;
              if (stopped) {
                return;
              }
              long now = System.currentTimeMillis();
              if (ar.succeeded()) {
                apply(s, ar.result());
                s.meters.succeeded(now, s.current.size());
                s.health.succeeded(now);
              } else {
                DiscoveryException e =
                    ar.cause() instanceof DiscoveryException de
                        ? de
                        : new DiscoveryException(
                            "connect", String.valueOf(ar.cause().getMessage()));
                s.meters.failed(e.reason());
                s.health.failed(
                    new ScrapeFailure(
                        e.reason(),
                        e.getMessage() + " (still scraping its " + s.current.size() + " targets)"),
                    now);
              }
            });
  }

  private void apply(State s, List<AppConfig.Target> found) {
    Map<String, AppConfig.Target> next = new LinkedHashMap<>();
    found.forEach(t -> next.putIfAbsent(t.url(), t));
    String owner = s.discovery.id();
    int added = 0;
    int removed = 0;
    for (AppConfig.Target old : s.current.values()) {
      if (!old.equals(next.get(old.url()))) {
        listener.lost(owner, old);
        removed++;
      }
    }
    for (AppConfig.Target t : next.values()) {
      if (!t.equals(s.current.get(t.url()))) {
        listener.found(owner, t);
        added++;
      }
    }
    if (added > 0 || removed > 0) {
      LOG.info(
          "discovery {} {}: {} targets ({} new, {} gone)",
          s.discovery.kind(),
          owner,
          next.size(),
          added,
          removed);
    }
    s.current = next;
  }
}
