package io.gputelemetry.discovery;

import io.gputelemetry.config.AppConfig;
import io.vertx.core.Future;
import java.util.List;

/** A way of finding scrape targets at run time, asked again at every refresh. */
public interface Discovery {
  /** The source kind of the targets it finds (dcgm, ...). */
  String kind();

  /** Names it on /metrics and in logs: dns:NAME or kubernetes:NAMESPACE (from configuration). */
  String id();

  /**
   * The targets it finds now, in a stable order, or a {@link DiscoveryException}. Never blocks the
   * calling event loop.
   */
  Future<List<AppConfig.Target>> refresh();
}
