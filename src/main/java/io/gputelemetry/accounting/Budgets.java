package io.gputelemetry.accounting;

import com.fasterxml.jackson.databind.JsonNode;
import io.gputelemetry.config.ConfigException;
import io.gputelemetry.json.Json;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Collection;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Monthly budgets per tenant (budgets.file; format docs/budgets.schema.json): dollars, and
 * optionally kilowatt-hours, per calendar month in UTC.
 */
public final class Budgets {
  /** One tenant's monthly budget; {@code monthlyKwh} null when it has none in energy. */
  public record Budget(String tenant, double monthlyUsd, Double monthlyKwh) {}

  /** The token event schema's tenant: a budget for any other name could never be used. */
  private static final Pattern TENANT = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}");

  private static final Set<String> FIELDS = Set.of("tenant", "monthly_usd", "monthly_kwh");

  private final Map<String, Budget> byTenant;

  private Budgets(Map<String, Budget> byTenant) {
    this.byTenant = byTenant;
  }

  /** No budgets. */
  public static Budgets none() {
    return new Budgets(Map.of());
  }

  /** The budgets of the file, or none when {@code file} is null. */
  public static Budgets load(Path file) {
    if (file == null) {
      return none();
    }
    JsonNode root;
    try {
      root = Json.MAPPER.readTree(file.toFile());
    } catch (IOException e) {
      throw new ConfigException(
          "setting 'budgets.file': cannot read " + file + ": " + e.getMessage());
    }
    return parse(root, "setting 'budgets.file' (" + file + ")");
  }

  /** Reads a budgets document; a {@link ConfigException} names the entry and field at fault. */
  static Budgets parse(JsonNode root, String where) {
    if (root == null || !root.isObject()) {
      throw new ConfigException(where + ": must be a JSON object with a \"budgets\" array");
    }
    for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
      String f = it.next();
      if (!f.equals("budgets") && !f.equals("_comment")) {
        throw new ConfigException(where + ": unknown field '" + f + "' (it takes budgets)");
      }
    }
    JsonNode list = root.get("budgets");
    if (list == null || !list.isArray()) {
      throw new ConfigException(where + ": \"budgets\" must be an array");
    }
    Map<String, Budget> out = new TreeMap<>();
    for (int i = 0; i < list.size(); i++) {
      JsonNode b = list.get(i);
      String at = where + ": budgets[" + i + "]";
      if (!b.isObject()) {
        throw new ConfigException(at + " must be an object");
      }
      for (Iterator<String> it = b.fieldNames(); it.hasNext(); ) {
        String f = it.next();
        if (!FIELDS.contains(f)) {
          throw new ConfigException(
              at + ": unknown field '" + f + "' (it takes tenant, monthly_usd, monthly_kwh)");
        }
      }
      JsonNode t = b.get("tenant");
      if (t == null || !t.isTextual() || !TENANT.matcher(t.asText()).matches()) {
        throw new ConfigException(
            at
                + ".tenant must be a tenant as token events name it (1 to 128 of A-Z a-z 0-9 . _ :"
                + " @ -, starting with a letter or digit), not "
                + t);
      }
      String tenant = t.asText();
      double usd = positive(b.get("monthly_usd"), at + ".monthly_usd", true);
      Double kwh =
          b.has("monthly_kwh") ? positive(b.get("monthly_kwh"), at + ".monthly_kwh", false) : null;
      if (out.put(tenant, new Budget(tenant, usd, kwh)) != null) {
        throw new ConfigException(at + ".tenant '" + tenant + "' has a budget already");
      }
    }
    return new Budgets(java.util.Collections.unmodifiableMap(out));
  }

  private static double positive(JsonNode v, String at, boolean required) {
    if (v == null && required) {
      throw new ConfigException(at + " is required (a number above 0)");
    }
    if (v == null || !v.isNumber() || !(v.asDouble() > 0) || Double.isInfinite(v.asDouble())) {
      throw new ConfigException(at + " must be a number above 0, not " + v);
    }
    return v.asDouble();
  }

  /** The budgets, by tenant in order. */
  public Collection<Budget> all() {
    return byTenant.values();
  }

  /** A tenant's budget, or null. */
  public Budget of(String tenant) {
    return byTenant.get(tenant);
  }

  public boolean isEmpty() {
    return byTenant.isEmpty();
  }
}
