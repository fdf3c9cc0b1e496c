package io.gputelemetry.discovery;

import io.gputelemetry.config.AppConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.dns.DnsClient;
import io.vertx.core.dns.DnsClientOptions;
import io.vertx.core.http.HttpClientAgent;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Every configured discovery, built on one DNS client and one Kubernetes API client. */
public final class Discoveries {
  private final List<Discovery> all = new ArrayList<>();
  private final List<Future<Void>> closing = new ArrayList<>();
  private DnsClient dns;
  private HttpClientAgent api;

  /**
   * @param env the process environment (where a pod finds its Kubernetes API)
   */
  public Discoveries(Vertx vertx, AppConfig.Sources sources, Map<String, String> env) {
    AppConfig.Discovery d = sources.discovery();
    if (!d.dns().isEmpty()) {
      DnsClientOptions o =
          new DnsClientOptions().setQueryTimeout(Math.min(5000, d.refresh().toMillis()));
      if (d.dnsServer() != null) {
        int colon = d.dnsServer().lastIndexOf(':');
        o.setHost(d.dnsServer().substring(0, colon).replace("[", "").replace("]", ""))
            .setPort(Integer.parseInt(d.dnsServer().substring(colon + 1)));
      }
      dns = vertx.createDnsClient(o);
      d.dns().forEach(c -> all.add(new DnsDiscovery(dns, c)));
    }
    if (!d.kubernetes().isEmpty()) {
      api = vertx.createHttpClient(KubernetesDiscovery.clientOptions(d.api()));
      Duration timeout =
          d.refresh().compareTo(Duration.ofSeconds(30)) < 0 ? d.refresh() : Duration.ofSeconds(30);
      d.kubernetes()
          .forEach(
              c ->
                  all.add(
                      new KubernetesDiscovery(
                          vertx, api, d.api(), c, env, timeout, sources.maxBodyBytes())));
    }
  }

  public List<Discovery> all() {
    return List.copyOf(all);
  }

  /** Closes the clients. */
  public Future<Void> close() {
    if (dns != null) {
      closing.add(dns.close());
    }
    if (api != null) {
      closing.add(api.close());
    }
    return Future.join(closing).mapEmpty();
  }
}
