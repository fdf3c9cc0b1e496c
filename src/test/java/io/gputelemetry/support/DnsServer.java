package io.gputelemetry.support;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.handler.codec.dns.DatagramDnsQuery;
import io.netty.handler.codec.dns.DatagramDnsQueryDecoder;
import io.netty.handler.codec.dns.DatagramDnsResponse;
import io.netty.handler.codec.dns.DatagramDnsResponseEncoder;
import io.netty.handler.codec.dns.DefaultDnsRawRecord;
import io.netty.handler.codec.dns.DnsQuestion;
import io.netty.handler.codec.dns.DnsRecordType;
import io.netty.handler.codec.dns.DnsResponseCode;
import io.netty.handler.codec.dns.DnsSection;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A DNS server on a loopback UDP port speaking the real wire protocol (Netty's DNS codec): A, AAAA
 * and SRV records set by the test, NXDOMAIN for names it does not know, and on demand SERVFAIL or
 * silence (a query that times out).
 */
public final class DnsServer implements AutoCloseable {
  /** How the server answers every query. */
  public enum Mode {
    ANSWER,
    SERVFAIL,
    SILENT
  }

  /** One SRV record. */
  public record Srv(int priority, int weight, int port, String target) {}

  private final EventLoopGroup group =
      new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
  private final Channel channel;
  private final Map<String, List<String>> a = new ConcurrentHashMap<>();
  private final Map<String, List<String>> aaaa = new ConcurrentHashMap<>();
  private final Map<String, List<Srv>> srv = new ConcurrentHashMap<>();
  private final AtomicInteger queries = new AtomicInteger();
  private volatile Mode mode = Mode.ANSWER;

  public DnsServer() throws InterruptedException {
    channel =
        new Bootstrap()
            .group(group)
            .channel(NioDatagramChannel.class)
            .handler(
                new ChannelInitializer<DatagramChannel>() {
                  @Override
                  protected void initChannel(DatagramChannel ch) {
                    ch.pipeline()
                        .addLast(new DatagramDnsQueryDecoder())
                        .addLast(new DatagramDnsResponseEncoder())
                        .addLast(new Answer());
                  }
                })
            .bind(new InetSocketAddress("127.0.0.1", 0))
            .sync()
            .channel();
  }

  /** HOST:PORT, as sources.dns.server takes it. */
  public String address() {
    return "127.0.0.1:" + ((InetSocketAddress) channel.localAddress()).getPort();
  }

  public void a(String name, String... ips) {
    a.put(fqdn(name), List.of(ips));
  }

  public void aaaa(String name, String... ips) {
    aaaa.put(fqdn(name), List.of(ips));
  }

  public void srv(String name, Srv... records) {
    srv.put(fqdn(name), List.of(records));
  }

  /** The name no longer exists (NXDOMAIN). */
  public void remove(String name) {
    a.remove(fqdn(name));
    aaaa.remove(fqdn(name));
    srv.remove(fqdn(name));
  }

  public void mode(Mode m) {
    mode = m;
  }

  public int queries() {
    return queries.get();
  }

  private static String fqdn(String name) {
    return name.endsWith(".") ? name : name + ".";
  }

  private final class Answer extends SimpleChannelInboundHandler<DatagramDnsQuery> {
    @Override
    protected void channelRead0(ChannelHandlerContext ctx, DatagramDnsQuery query)
        throws Exception {
      queries.incrementAndGet();
      if (mode == Mode.SILENT) {
        return;
      }
      DnsQuestion q = query.recordAt(DnsSection.QUESTION);
      DatagramDnsResponse r =
          new DatagramDnsResponse(query.recipient(), query.sender(), query.id());
      r.setRecursionAvailable(true);
      r.addRecord(DnsSection.QUESTION, q);
      String name = q.name().endsWith(".") ? q.name() : q.name() + ".";
      boolean known = a.containsKey(name) || aaaa.containsKey(name) || srv.containsKey(name);
      if (mode == Mode.SERVFAIL) {
        r.setCode(DnsResponseCode.SERVFAIL);
      } else if (!known) {
        r.setCode(DnsResponseCode.NXDOMAIN);
      } else if (q.type() == DnsRecordType.A || q.type() == DnsRecordType.AAAA) {
        for (String ip : (q.type() == DnsRecordType.A ? a : aaaa).getOrDefault(name, List.of())) {
          byte[] addr = InetAddress.getByName(ip).getAddress(); // a literal: no lookup
          r.addRecord(
              DnsSection.ANSWER,
              new DefaultDnsRawRecord(name, q.type(), 30, Unpooled.wrappedBuffer(addr)));
        }
      } else if (q.type() == DnsRecordType.SRV) {
        for (Srv s : srv.getOrDefault(name, List.of())) {
          ByteBuf b = Unpooled.buffer();
          b.writeShort(s.priority()).writeShort(s.weight()).writeShort(s.port());
          for (String label : fqdn(s.target()).split("\\.")) {
            byte[] l = label.getBytes(StandardCharsets.US_ASCII);
            b.writeByte(l.length).writeBytes(l);
          }
          b.writeByte(0);
          r.addRecord(DnsSection.ANSWER, new DefaultDnsRawRecord(name, DnsRecordType.SRV, 30, b));
        }
      }
      ctx.writeAndFlush(r);
    }
  }

  @Override
  public void close() throws InterruptedException {
    channel.close().sync();
    group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).sync();
  }
}
