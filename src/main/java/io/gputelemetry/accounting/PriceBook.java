package io.gputelemetry.accounting;

import com.fasterxml.jackson.databind.JsonNode;
import io.gputelemetry.config.ConfigException;
import io.gputelemetry.json.Json;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * Hourly GPU prices with effective-from instants (conf/price-book.json): on-demand (list),
 * committed (a reservation or savings plan, amortised per hour) and spot prices, each for the nodes
 * whose names match its patterns. A price applies from its instant until the next one of the same
 * line (GPU model, kind, nodes, commitment) or its own end; before the first there is no price
 * ("unpriced"). Where several lines match a node at an instant, a committed price applies before a
 * spot price before an on-demand one, and within a kind the line listed first.
 */
public final class PriceBook {
  public static final String RESOURCE = "conf/price-book.json";

  /** A price in force from an instant, on-demand on every node. */
  public record Price(long fromMillis, double usdPerHour) {}

  /** A model's public list price per 1M tokens, for comparison only. */
  public record ListPrice(double inputUsdPer1m, double outputUsdPer1m) {}

  /** How a price is paid: in the order a node matched by several takes them, the first wins. */
  public enum Kind {
    COMMITTED("committed", 0),
    SPOT("spot", 1),
    ON_DEMAND("on_demand", 2);

    private final String json;
    private final int precedence;

    Kind(String json, int precedence) {
      this.json = json;
      this.precedence = precedence;
    }

    /** The name in the price book (price_kind). */
    public String json() {
      return json;
    }
  }

  /**
   * The commitment a committed price amortises: its id and name, and FOCUS's category ("Usage": a
   * quantity of GPU-hours; "Spend": an amount per hour; null when the book does not say).
   */
  public record Commitment(String id, String name, String category) {}

  /** A price from an instant (inclusive) to another (exclusive; Long.MAX_VALUE: open). */
  public record Entry(long fromMillis, long toMillis, double usdPerHour) {}

  /**
   * One line of prices: a GPU model, a kind, the nodes it applies to (glob patterns on the node's
   * name, {@code *} and {@code ?}; ["*"] for every node) and, for a committed price, its
   * commitment.
   */
  public record Line(
      String gpuModel, Kind kind, List<String> nodes, Commitment commitment, List<Entry> entries) {}

  /** The price that applies at an instant, with the on-demand (list) price beside it. */
  public record Applied(
      Kind kind, double usdPerHour, double listUsdPerHour, Commitment commitment) {}

  /**
   * Cost of a span and how much of it had no price. costUsd is the effective cost (the price that
   * applied); listCostUsd at the on-demand price; contractedCostUsd at the on-demand price, or the
   * spot price on spot (FOCUS's contracted price excludes commitment discounts); billedCostUsd is 0
   * under a commitment (its purchase is billed apart) and the effective cost otherwise.
   */
  public record Integral(
      double costUsd,
      long unpricedMillis,
      double listCostUsd,
      double contractedCostUsd,
      double billedCostUsd) {}

  /** A line ready to match: its node patterns compiled, its entries sorted and cut. */
  private record Compiled(Line line, List<Pattern> patterns, boolean everyNode) {
    boolean matches(String node) {
      if (node == null) {
        return everyNode;
      }
      for (Pattern p : patterns) {
        if (p.matcher(node).matches()) {
          return true;
        }
      }
      return false;
    }

    Double priceAt(long t) {
      for (Entry e : line.entries()) {
        if (e.fromMillis() <= t && (t < e.toMillis() || e.toMillis() == Long.MAX_VALUE)) {
          return e.usdPerHour();
        }
      }
      return null;
    }
  }

  private static final String EVERY_NODE = "*";

  private final Map<String, List<Compiled>> lines;
  private final Map<String, ListPrice> listPrices;

  /** On-demand prices on every node, per GPU model. */
  public PriceBook(Map<String, List<Price>> prices, Map<String, ListPrice> listPrices) {
    this(onDemand(prices), listPrices);
  }

  /** Lines in the order of the book (which decides between two lines of a kind on a node). */
  public PriceBook(List<Line> lines, Map<String, ListPrice> listPrices) {
    Map<String, List<Compiled>> m = new LinkedHashMap<>();
    for (Line l : lines) {
      List<Pattern> patterns = new ArrayList<>();
      l.nodes().forEach(n -> patterns.add(glob(n)));
      m.computeIfAbsent(l.gpuModel(), k -> new ArrayList<>())
          .add(new Compiled(cut(l), List.copyOf(patterns), l.nodes().contains(EVERY_NODE)));
    }
    Map<String, List<Compiled>> frozen = new HashMap<>();
    m.forEach((k, v) -> frozen.put(k, List.copyOf(v)));
    this.lines = Map.copyOf(frozen);
    this.listPrices = Map.copyOf(listPrices);
  }

  private static List<Line> onDemand(Map<String, List<Price>> prices) {
    List<Line> out = new ArrayList<>();
    new TreeMap<>(prices)
        .forEach(
            (model, l) -> {
              List<Entry> entries = new ArrayList<>();
              l.forEach(
                  p -> entries.add(new Entry(p.fromMillis(), Long.MAX_VALUE, p.usdPerHour())));
              out.add(new Line(model, Kind.ON_DEMAND, List.of(EVERY_NODE), null, entries));
            });
    return out;
  }

  /** The line with its entries in time order, each ending at the next one's start at the latest. */
  private static Line cut(Line l) {
    List<Entry> sorted = new ArrayList<>(l.entries());
    sorted.sort(Comparator.comparingLong(Entry::fromMillis));
    List<Entry> out = new ArrayList<>(sorted.size());
    for (int i = 0; i < sorted.size(); i++) {
      Entry e = sorted.get(i);
      long next = i + 1 < sorted.size() ? sorted.get(i + 1).fromMillis() : Long.MAX_VALUE;
      out.add(new Entry(e.fromMillis(), Math.min(next, e.toMillis()), e.usdPerHour()));
    }
    return new Line(
        l.gpuModel(), l.kind(), List.copyOf(l.nodes()), l.commitment(), List.copyOf(out));
  }

  /** A glob on a node name: {@code *} any run of characters, {@code ?} one; the rest literal. */
  static Pattern glob(String glob) {
    StringBuilder re = new StringBuilder();
    for (int i = 0; i < glob.length(); i++) {
      char c = glob.charAt(i);
      if (c == '*') {
        re.append(".*");
      } else if (c == '?') {
        re.append('.');
      } else {
        re.append(Pattern.quote(String.valueOf(c)));
      }
    }
    return Pattern.compile(re.toString());
  }

  /** The GPU models the book prices (at some time, on some node). */
  public Set<String> gpuModels() {
    return lines.keySet();
  }

  /** The built-in book, or the file given by pricing.price-book. */
  public static PriceBook load(Path file) {
    try (InputStream in =
        file == null
            ? PriceBook.class.getClassLoader().getResourceAsStream(RESOURCE)
            : Files.newInputStream(file)) {
      if (in == null) {
        throw new IllegalStateException(RESOURCE + " missing from the classpath");
      }
      return parse(Json.MAPPER.readTree(in), file == null ? RESOURCE : file.toString());
    } catch (IOException e) {
      throw new ConfigException(
          "setting 'pricing.price-book': cannot read " + file + ": " + e.getMessage());
    }
  }

  static PriceBook parse(JsonNode root, String where) {
    return new PriceBook(PriceBookParser.lines(root, where), PriceBookParser.listPrices(root));
  }

  /** The price that applies to a GPU of the model on the node at t, or null when unpriced. */
  public Applied appliedAt(String gpuModel, String node, long t) {
    Compiled best = null;
    double bestPrice = 0;
    Double list = null;
    for (Compiled c : lines.getOrDefault(gpuModel, List.of())) {
      if (!c.matches(node)) {
        continue;
      }
      Double p = c.priceAt(t);
      if (p == null) {
        continue;
      }
      if (list == null && c.line().kind() == Kind.ON_DEMAND) {
        list = p;
      }
      if (best == null || c.line().kind().precedence < best.line().kind().precedence) {
        best = c;
        bestPrice = p;
      }
    }
    if (best == null) {
      return null;
    }
    // Without an on-demand price for the node, the list price is the one that applies.
    return new Applied(
        best.line().kind(), bestPrice, list == null ? bestPrice : list, best.line().commitment());
  }

  /**
   * USD per hour in force at {@code t} on a node no pattern but "*" names (the live estimates), or
   * null when unpriced.
   */
  public Double priceAt(String gpuModel, long t) {
    Applied a = appliedAt(gpuModel, null, t);
    return a == null ? null : a.usdPerHour();
  }

  /** Instants in (a, b) where a price of the GPU model may change on some node. */
  public List<Long> changesBetween(String gpuModel, long a, long b) {
    TreeSet<Long> out = new TreeSet<>();
    for (Compiled c : lines.getOrDefault(gpuModel, List.of())) {
      for (Entry e : c.line().entries()) {
        if (e.fromMillis() > a && e.fromMillis() < b) {
          out.add(e.fromMillis());
        }
        if (e.toMillis() > a && e.toMillis() < b) {
          out.add(e.toMillis());
        }
      }
    }
    return new ArrayList<>(out);
  }

  /** Cost of running one GPU of the model over [a, b) on a node "*" only names. */
  public Integral integrate(String gpuModel, long a, long b) {
    return integrate(gpuModel, null, a, b);
  }

  /**
   * A span over which one price applies without change: [fromMillis, toMillis) and that price
   * (null: unpriced).
   */
  public record Segment(long fromMillis, long toMillis, Applied applied) {
    /**
     * The span's costs: effective at the price that applies, list at the on-demand price,
     * contracted at the on-demand price or the spot price on spot (FOCUS's contracted price
     * excludes commitment discounts), billed 0 under a commitment (billed on its purchase).
     */
    public Integral cost() {
      long ms = toMillis - fromMillis;
      if (applied == null) {
        return new Integral(0, ms, 0, 0, 0);
      }
      double effective = applied.usdPerHour() * ms / 3_600_000.0;
      double onDemand = applied.listUsdPerHour() * ms / 3_600_000.0;
      return new Integral(
          effective,
          0,
          onDemand,
          applied.kind() == Kind.SPOT ? effective : onDemand,
          applied.kind() == Kind.COMMITTED ? 0 : effective);
    }
  }

  /** The spans of [a, b) over which the price of a GPU of the model on the node holds, in order. */
  public List<Segment> segments(String gpuModel, String node, long a, long b) {
    List<Segment> out = new ArrayList<>();
    long start = a;
    List<Long> cuts = changesBetween(gpuModel, a, b);
    cuts.add(b);
    for (long end : cuts) {
      out.add(new Segment(start, end, appliedAt(gpuModel, node, start)));
      start = end;
    }
    return out;
  }

  /** Cost of running one GPU of the model on the node over [a, b), split at price changes. */
  public Integral integrate(String gpuModel, String node, long a, long b) {
    double cost = 0;
    double list = 0;
    double contracted = 0;
    double billed = 0;
    long unpriced = 0;
    for (Segment s : segments(gpuModel, node, a, b)) {
      Integral i = s.cost();
      cost += i.costUsd();
      list += i.listCostUsd();
      contracted += i.contractedCostUsd();
      billed += i.billedCostUsd();
      unpriced += i.unpricedMillis();
    }
    return new Integral(cost, unpriced, list, contracted, billed);
  }

  /**
   * The commitments the book names, by id (each id has one name and category: the parser refuses
   * two).
   */
  public Map<String, Commitment> commitments() {
    Map<String, Commitment> out = new TreeMap<>();
    lines
        .values()
        .forEach(
            l ->
                l.forEach(
                    c -> {
                      Commitment m = c.line().commitment();
                      if (m != null) {
                        out.putIfAbsent(m.id(), m);
                      }
                    }));
    return out;
  }

  public ListPrice listPrice(String model) {
    return listPrices.get(model);
  }
}
