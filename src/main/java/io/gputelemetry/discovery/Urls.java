package io.gputelemetry.discovery;

/** The URL of a discovered target. */
final class Urls {
  private Urls() {}

  /** SCHEME://HOST:PORT/PATH, an IPv6 address in brackets; a DNS name loses its final dot. */
  static String of(String scheme, String host, int port, String path) {
    String h = host.endsWith(".") ? host.substring(0, host.length() - 1) : host;
    if (h.indexOf(':') >= 0 && !h.startsWith("[")) {
      h = "[" + h + "]";
    }
    return scheme + "://" + h + ":" + port + path;
  }
}
