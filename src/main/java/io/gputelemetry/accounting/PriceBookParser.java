package io.gputelemetry.accounting;

import com.fasterxml.jackson.databind.JsonNode;
import io.gputelemetry.accounting.PriceBook.Commitment;
import io.gputelemetry.accounting.PriceBook.Entry;
import io.gputelemetry.accounting.PriceBook.Kind;
import io.gputelemetry.accounting.PriceBook.Line;
import io.gputelemetry.accounting.PriceBook.ListPrice;
import io.gputelemetry.config.ConfigException;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * Reads a price book's JSON into lines, refusing a bad entry with its index, the field and why: a
 * price that silently applied to the wrong nodes or at the wrong kind would bill wrongly.
 */
final class PriceBookParser {
  private PriceBookParser() {}

  static final Set<String> FIELDS =
      Set.of(
          "gpu_model",
          "effective_from",
          "effective_to",
          "usd_per_hour",
          "price_kind",
          "nodes",
          "commitment_id",
          "commitment_name",
          "commitment_category",
          "basis");

  private static final Pattern NODE_GLOB = Pattern.compile("[A-Za-z0-9._:*?-]{1,253}");
  private static final int MAX_NODE_PATTERNS = 64;

  /** A line's identity: entries with the same key continue one another. */
  private record Key(String gpuModel, Kind kind, List<String> nodes, String commitmentId) {}

  static List<Line> lines(JsonNode root, String where) {
    Map<Key, List<Entry>> entries = new LinkedHashMap<>();
    Map<Key, Commitment> commitments = new HashMap<>();
    Map<String, Commitment> byId = new HashMap<>();
    int i = 0;
    for (JsonNode p : root.path("gpu_hourly")) {
      String at = where + ": gpu_hourly[" + i++ + "]";
      String model = p.path("gpu_model").asText("");
      double usd = p.path("usd_per_hour").asDouble(-1);
      Instant from = instant(p, "effective_from");
      if (from == null) {
        throw new ConfigException(
            where
                + ": gpu_hourly entry for '"
                + model
                + "' needs effective_from as an RFC 3339 UTC instant");
      }
      if (model.isEmpty() || !(usd >= 0) || !p.path("usd_per_hour").isNumber()) {
        throw new ConfigException(
            where + ": every gpu_hourly entry needs gpu_model and a non-negative usd_per_hour");
      }
      at += " ('" + model + "')";
      unknownFields(p, at);
      long to = Long.MAX_VALUE;
      if (p.has("effective_to")) {
        Instant end = instant(p, "effective_to");
        if (end == null || !end.isAfter(from)) {
          throw new ConfigException(
              at + ": effective_to must be an RFC 3339 UTC instant after effective_from");
        }
        to = end.toEpochMilli();
      }
      Kind kind = kind(p, at);
      List<String> nodes = nodes(p, at);
      Commitment c = commitment(p, kind, at);
      Key key = new Key(model, kind, nodes, c == null ? null : c.id());
      commitments.put(key, c);
      // One id is one commitment: its name and category (FOCUS's, per CommitmentDiscountId) are
      // the same on every line that names it, whatever the GPU model or nodes.
      Commitment known = c == null ? null : byId.putIfAbsent(c.id(), c);
      if (known != null && !known.equals(c)) {
        throw new ConfigException(
            at
                + ": commitment '"
                + c.id()
                + "' has another commitment_name or commitment_category in an earlier entry");
      }
      List<Entry> line = entries.computeIfAbsent(key, k -> new ArrayList<>());
      for (Entry e : line) {
        if (e.fromMillis() == from.toEpochMilli()) {
          throw new ConfigException(
              at
                  + ": another entry of the same GPU model, price_kind, nodes and commitment"
                  + " starts at "
                  + from
                  + ": which price applies would be ambiguous");
        }
      }
      line.add(new Entry(from.toEpochMilli(), to, usd));
    }
    List<Line> out = new ArrayList<>();
    entries.forEach(
        (k, v) -> out.add(new Line(k.gpuModel(), k.kind(), k.nodes(), commitments.get(k), v)));
    return out;
  }

  static Map<String, ListPrice> listPrices(JsonNode root) {
    Map<String, ListPrice> lists = new HashMap<>();
    for (JsonNode l : root.path("model_list_prices")) {
      lists.put(
          l.path("model").asText(),
          new ListPrice(
              l.path("input_usd_per_1m").asDouble(), l.path("output_usd_per_1m").asDouble()));
    }
    return lists;
  }

  private static Instant instant(JsonNode p, String field) {
    try {
      return Instant.parse(p.path(field).asText(""));
    } catch (DateTimeParseException e) {
      return null;
    }
  }

  private static void unknownFields(JsonNode p, String at) {
    for (Iterator<String> it = p.fieldNames(); it.hasNext(); ) {
      String f = it.next();
      if (!FIELDS.contains(f) && !f.startsWith("_")) {
        throw new ConfigException(
            at
                + ": unknown field '"
                + f
                + "' (a misspelt price_kind or nodes would bill at the wrong price); known: "
                + new TreeSet<>(FIELDS)
                + ", or a name starting with _ for a comment");
      }
    }
  }

  private static Kind kind(JsonNode p, String at) {
    if (!p.has("price_kind")) {
      return Kind.ON_DEMAND;
    }
    String k = p.path("price_kind").asText("");
    for (Kind kind : Kind.values()) {
      if (p.path("price_kind").isTextual() && kind.json().equals(k)) {
        return kind;
      }
    }
    throw new ConfigException(
        at + ": price_kind must be on_demand, committed or spot, not " + p.path("price_kind"));
  }

  private static List<String> nodes(JsonNode p, String at) {
    if (!p.has("nodes")) {
      return List.of("*");
    }
    JsonNode n = p.path("nodes");
    if (!n.isArray() || n.isEmpty() || n.size() > MAX_NODE_PATTERNS) {
      throw new ConfigException(
          at
              + ": nodes must be a list of 1 to "
              + MAX_NODE_PATTERNS
              + " node name patterns (leave it out for every node)");
    }
    List<String> out = new ArrayList<>();
    for (JsonNode g : n) {
      if (!g.isTextual() || !NODE_GLOB.matcher(g.asText()).matches()) {
        throw new ConfigException(
            at
                + ": nodes: "
                + g
                + " is not a node name pattern (letters, digits, . _ : - and the wildcards * and"
                + " ?, 1 to 253 characters)");
      }
      out.add(g.asText());
    }
    return List.copyOf(out);
  }

  private static Commitment commitment(JsonNode p, Kind kind, String at) {
    if (kind != Kind.COMMITTED) {
      for (String f : List.of("commitment_id", "commitment_name", "commitment_category")) {
        if (p.has(f)) {
          throw new ConfigException(
              at + ": " + f + " belongs to a price_kind committed entry only");
        }
      }
      return null;
    }
    String id = text(p, "commitment_id", at);
    if (id == null) {
      throw new ConfigException(
          at + ": a committed price needs commitment_id (the reservation or savings plan's id)");
    }
    String category = text(p, "commitment_category", at);
    if (category != null && !category.equals("Usage") && !category.equals("Spend")) {
      throw new ConfigException(
          at
              + ": commitment_category must be Usage or Spend (FOCUS's values), not '"
              + category
              + "'");
    }
    return new Commitment(id, text(p, "commitment_name", at), category);
  }

  /** An optional text field of 1 to 256 printable characters, or null when absent. */
  private static String text(JsonNode p, String field, String at) {
    if (!p.has(field)) {
      return null;
    }
    JsonNode v = p.path(field);
    if (!v.isTextual()
        || v.asText().isEmpty()
        || v.asText().length() > 256
        || v.asText().chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
      throw new ConfigException(at + ": " + field + " must be 1 to 256 printable characters");
    }
    return v.asText();
  }
}
