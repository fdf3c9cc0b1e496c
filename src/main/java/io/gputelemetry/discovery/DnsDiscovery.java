package io.gputelemetry.discovery;

import io.gputelemetry.config.AppConfig;
import io.vertx.core.Future;
import io.vertx.core.dns.DnsClient;
import io.vertx.core.dns.DnsException;
import io.vertx.core.dns.DnsResponseCode;
import io.vertx.core.dns.SrvRecord;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * The targets a DNS name gives: each address of its A and AAAA records at the configured port, or
 * each host and port of its SRV records. Queries go out on Vert.x's non-blocking DNS client. A name
 * that does not exist (NXDOMAIN) has no targets: it is an answer, like a headless service scaled to
 * zero; a query that times out or fails otherwise is a failure, and the caller keeps the targets it
 * had.
 */
public final class DnsDiscovery implements Discovery {
  private final DnsClient dns;
  private final AppConfig.DnsDiscovery config;

  public DnsDiscovery(DnsClient dns, AppConfig.DnsDiscovery config) {
    this.dns = dns;
    this.config = config;
  }

  @Override
  public String kind() {
    return config.kind();
  }

  @Override
  public String id() {
    return config.id();
  }

  @Override
  public Future<List<AppConfig.Target>> refresh() {
    String name = config.name();
    if (config.type() == AppConfig.DnsType.SRV) {
      return orNone(dns.resolveSRV(name))
          .map(
              records -> {
                TreeSet<String> urls = new TreeSet<>();
                for (SrvRecord r : records) {
                  urls.add(Urls.of(config.scheme(), r.target(), r.port(), config.path()));
                }
                return targets(urls);
              });
    }
    Future<List<String>> a = orNone(dns.resolveA(name));
    Future<List<String>> aaaa = orNone(dns.resolveAAAA(name));
    return Future.all(a, aaaa)
        .map(
            all -> {
              TreeSet<String> urls = new TreeSet<>();
              for (String ip : a.result()) {
                urls.add(Urls.of(config.scheme(), ip, config.port(), config.path()));
              }
              for (String ip : aaaa.result()) {
                urls.add(Urls.of(config.scheme(), ip, config.port(), config.path()));
              }
              return targets(urls);
            });
  }

  private List<AppConfig.Target> targets(Set<String> urls) {
    List<AppConfig.Target> out = new ArrayList<>(urls.size());
    AppConfig.Template t = config.target();
    for (String url : urls) {
      out.add(new AppConfig.Target(config.kind(), url, t.interval(), t.timeout(), t.labels()));
    }
    return out;
  }

  /** NXDOMAIN: no records; any other failure: a DiscoveryException naming the name. */
  private <T> Future<List<T>> orNone(Future<List<T>> query) {
    return query.recover(
        e -> {
          if (e instanceof DnsException d && d.code() == DnsResponseCode.NXDOMAIN) {
            return Future.succeededFuture(List.of());
          }
          String why = e instanceof DnsException d ? d.code().toString() : e.getMessage();
          // Netty's DnsNameResolverTimeoutException: no answer within the query timeout.
          String reason = e.getClass().getSimpleName().contains("Timeout") ? "timeout" : "dns";
          return Future.failedFuture(
              new DiscoveryException(reason, "DNS query for " + config.name() + ": " + why));
        });
  }
}
