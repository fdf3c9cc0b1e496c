package io.gputelemetry.export;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Currency;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;

/**
 * A FOCUS 1.2 validator over parsed CSV, written from the specification (v1.2's column pages,
 * attributes and glossary as summarised in the project's column-requirements table), not from the
 * FinOps Foundation's validator, whose rule file disagrees with the spec in places. It checks the
 * header (every Mandatory column, Conditional columns whose condition the dataset's {@link Facts}
 * says holds, column groups present together, ids spelled exactly, custom columns x_-prefixed and
 * last), each value (type: decimal, date/time, JSON key-value, currency, unit format; nullability;
 * allowed values), the cross-column rules of each row, and the dataset-level ones (ServiceName to
 * one ServiceCategory, SkuPriceId to one SkuId, CommitmentDiscountUnit per commitment). Records are
 * fed one at a time and not kept, so a dataset of any length can be checked.
 */
final class FocusConformance {
  /** What the provider has, which decides which Conditional columns must be present. */
  record Facts(
      boolean usageMeasured,
      boolean listPrices,
      boolean negotiatedPrices,
      boolean priceList,
      boolean subAccounts,
      boolean regions,
      boolean resources,
      boolean commitmentDiscounts,
      boolean capacityReservations,
      boolean tags,
      boolean severalPricingCategories) {}

  enum Level {
    M,
    C,
    R
  }

  /** Type of a column's values. */
  enum Type {
    DECIMAL,
    DATE_TIME,
    STRING,
    JSON,
    CURRENCY,
    UNIT
  }

  record Spec(Level level, Type type) {}

  /** Every FOCUS 1.2 column (57): level and type. */
  static final Map<String, Spec> COLUMNS = new LinkedHashMap<>();

  private static void col(String name, Level l, Type t) {
    COLUMNS.put(name, new Spec(l, t));
  }

  static {
    col("AvailabilityZone", Level.R, Type.STRING);
    col("BilledCost", Level.M, Type.DECIMAL);
    col("BillingAccountId", Level.M, Type.STRING);
    col("BillingAccountName", Level.M, Type.STRING);
    col("BillingAccountType", Level.C, Type.STRING);
    col("BillingCurrency", Level.M, Type.CURRENCY);
    col("BillingPeriodEnd", Level.M, Type.DATE_TIME);
    col("BillingPeriodStart", Level.M, Type.DATE_TIME);
    col("CapacityReservationId", Level.C, Type.STRING);
    col("CapacityReservationStatus", Level.C, Type.STRING);
    col("ChargeCategory", Level.M, Type.STRING);
    col("ChargeClass", Level.M, Type.STRING);
    col("ChargeDescription", Level.M, Type.STRING);
    col("ChargeFrequency", Level.R, Type.STRING);
    col("ChargePeriodEnd", Level.M, Type.DATE_TIME);
    col("ChargePeriodStart", Level.M, Type.DATE_TIME);
    col("CommitmentDiscountCategory", Level.C, Type.STRING);
    col("CommitmentDiscountId", Level.C, Type.STRING);
    col("CommitmentDiscountName", Level.C, Type.STRING);
    col("CommitmentDiscountQuantity", Level.C, Type.DECIMAL);
    col("CommitmentDiscountStatus", Level.C, Type.STRING);
    col("CommitmentDiscountType", Level.C, Type.STRING);
    col("CommitmentDiscountUnit", Level.C, Type.UNIT);
    col("ConsumedQuantity", Level.C, Type.DECIMAL);
    col("ConsumedUnit", Level.C, Type.UNIT);
    col("ContractedCost", Level.M, Type.DECIMAL);
    col("ContractedUnitPrice", Level.C, Type.DECIMAL);
    col("EffectiveCost", Level.M, Type.DECIMAL);
    col("InvoiceId", Level.R, Type.STRING);
    col("InvoiceIssuerName", Level.M, Type.STRING);
    col("ListCost", Level.M, Type.DECIMAL);
    col("ListUnitPrice", Level.C, Type.DECIMAL);
    col("PricingCategory", Level.C, Type.STRING);
    col("PricingCurrency", Level.C, Type.STRING);
    col("PricingCurrencyContractedUnitPrice", Level.C, Type.DECIMAL);
    col("PricingCurrencyEffectiveCost", Level.C, Type.DECIMAL);
    col("PricingCurrencyListUnitPrice", Level.C, Type.DECIMAL);
    col("PricingQuantity", Level.M, Type.DECIMAL);
    col("PricingUnit", Level.M, Type.UNIT);
    col("ProviderName", Level.M, Type.STRING);
    col("PublisherName", Level.M, Type.STRING);
    col("RegionId", Level.C, Type.STRING);
    col("RegionName", Level.C, Type.STRING);
    col("ResourceId", Level.C, Type.STRING);
    col("ResourceName", Level.C, Type.STRING);
    col("ResourceType", Level.C, Type.STRING);
    col("ServiceCategory", Level.M, Type.STRING);
    col("ServiceName", Level.M, Type.STRING);
    col("ServiceSubcategory", Level.R, Type.STRING);
    col("SkuId", Level.C, Type.STRING);
    col("SkuMeter", Level.C, Type.STRING);
    col("SkuPriceDetails", Level.C, Type.JSON);
    col("SkuPriceId", Level.C, Type.STRING);
    col("SubAccountId", Level.C, Type.STRING);
    col("SubAccountName", Level.C, Type.STRING);
    col("SubAccountType", Level.C, Type.STRING);
    col("Tags", Level.C, Type.JSON);
  }

  /** Columns that share a presence clause: present together or not at all. */
  static final List<List<String>> GROUPS =
      List.of(
          List.of(
              "CommitmentDiscountCategory",
              "CommitmentDiscountId",
              "CommitmentDiscountName",
              "CommitmentDiscountQuantity",
              "CommitmentDiscountStatus",
              "CommitmentDiscountType",
              "CommitmentDiscountUnit"),
          List.of("CapacityReservationId", "CapacityReservationStatus"),
          List.of("ConsumedQuantity", "ConsumedUnit"),
          List.of("RegionId", "RegionName"),
          List.of("SkuId", "SkuMeter", "SkuPriceId", "SkuPriceDetails"),
          List.of("SubAccountId", "SubAccountName"),
          List.of("ResourceId", "ResourceName"));

  static final Map<String, Set<String>> SUBCATEGORIES = new LinkedHashMap<>();

  private static void cat(String category, String... subs) {
    Set<String> s = new HashSet<>(List.of(subs));
    s.add("Other (" + category + ")");
    SUBCATEGORIES.put(category, s);
  }

  static {
    cat(
        "AI and Machine Learning",
        "AI Platforms",
        "Bots",
        "Generative AI",
        "Machine Learning",
        "Natural Language Processing");
    cat(
        "Analytics",
        "Analytics Platforms",
        "Business Intelligence",
        "Data Processing",
        "Search",
        "Streaming Analytics");
    cat("Business Applications", "Productivity and Collaboration");
    cat(
        "Compute",
        "Containers",
        "End User Computing",
        "Quantum Compute",
        "Serverless Compute",
        "Virtual Machines");
    cat(
        "Databases",
        "Caching",
        "Data Warehouses",
        "Ledger Databases",
        "NoSQL Databases",
        "Relational Databases",
        "Time Series Databases");
    cat(
        "Developer Tools",
        "Developer Platforms",
        "Continuous Integration and Deployment",
        "Development Environments",
        "Source Code Management",
        "Quality Assurance");
    cat("Identity", "Identity and Access Management");
    cat("Integration", "API Management", "Messaging", "Workflow Orchestration");
    cat("Internet of Things", "IoT Analytics", "IoT Platforms");
    cat(
        "Management and Governance",
        "Architecture",
        "Compliance",
        "Cost Management",
        "Data Governance",
        "Disaster Recovery",
        "Endpoint Management",
        "Observability",
        "Support");
    cat("Media", "Content Creation", "Gaming", "Media Streaming", "Mixed Reality");
    cat("Migration", "Data Migration", "Resource Migration");
    cat("Multicloud", "Multicloud Integration");
    cat(
        "Networking",
        "Application Networking",
        "Content Delivery",
        "Network Connectivity",
        "Network Infrastructure",
        "Network Routing",
        "Network Security");
    cat(
        "Security",
        "Secret Management",
        "Security Posture Management",
        "Threat Detection and Response");
    cat(
        "Storage",
        "Backup Storage",
        "Block Storage",
        "File Storage",
        "Object Storage",
        "Storage Platforms");
    cat("Web", "Application Platforms");
    cat("Mobile");
    cat("Other");
  }

  /** Numeric format: integer, decimal or mEn; never a '+', a comma or a symbol. */
  private static final Pattern DECIMAL = Pattern.compile("-?(\\d+(\\.\\d+)?|\\.\\d+)([eE]-?\\d+)?");

  private static final Pattern DATE_TIME =
      Pattern.compile("\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}Z");

  private static final String TIME = "(Year|Month|Day|Hour|Minute|Second)";

  /**
   * Unit Format: "GB", "Tokens", "GB-Hours", "GB/Hour", "1000 Tokens" (a whole number), "Units/3
   * Months"; time words from the spec's vocabulary.
   */
  private static final Pattern UNIT =
      Pattern.compile(
          "([1-9]\\d* )?[A-Za-z]+(-" + TIME + "s|/" + TIME + "|/[1-9]\\d* " + TIME + "s)?");

  private static final Set<String> PLACEHOLDERS = Set.of("null", "n/a", "not applicable", "none");

  private static final Set<String> PRICE_NULLABILITY =
      Set.of(
          "ContractedUnitPrice",
          "ListUnitPrice",
          "PricingCategory",
          "PricingQuantity",
          "SkuId",
          "SkuPriceId",
          "PricingCurrencyContractedUnitPrice",
          "PricingCurrencyListUnitPrice");

  /** Refuses a repeated key (Key-Value format: unique keys). */
  private static final ObjectMapper JSON =
      new ObjectMapper()
          .enable(com.fasterxml.jackson.core.JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

  private final Facts facts;
  private final List<String> problems = new ArrayList<>();
  private List<String> header;
  private Set<String> columns;
  private final Map<String, String> serviceCategory = new HashMap<>();
  private final Map<String, String> skuOfPrice = new HashMap<>();
  private final Map<String, String> commitmentUnit = new HashMap<>();
  private final Map<String, List<String>> commitmentFacts = new HashMap<>();
  private long records;

  FocusConformance(Facts facts) {
    this.facts = facts;
  }

  /** Checks a whole CSV text (header line first) and returns the problems found. */
  static List<String> check(String csv, Facts facts) {
    FocusConformance v = new FocusConformance(facts);
    v.read(new StringReader(csv), true);
    return v.problems();
  }

  /**
   * Reads CSV records from {@code in}: the header first when {@code withHeader}, then records
   * checked one by one against that header.
   */
  void read(Reader in, boolean withHeader) {
    try (CSVParser p = CSVFormat.RFC4180.builder().get().parse(in)) {
      Iterator<CSVRecord> it = p.iterator();
      if (withHeader) {
        if (!it.hasNext()) {
          problem("no header line");
          return;
        }
        header(it.next().toList());
      }
      while (it.hasNext()) {
        record(it.next().toList());
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  List<String> problems() {
    return problems;
  }

  long records() {
    return records;
  }

  private void problem(String s) {
    if (problems.size() < 200) {
      problems.add(s);
    }
  }

  /** The header's rules. */
  void header(List<String> names) {
    header = List.copyOf(names);
    columns = Set.copyOf(new HashSet<>(names));
    Set<String> seen = new HashSet<>();
    boolean custom = false;
    for (String n : names) {
      if (!seen.add(n)) {
        problem("column " + n + " appears twice");
      }
      if (n.startsWith("x_")) {
        custom = true;
      } else if (!COLUMNS.containsKey(n)) {
        problem("column " + n + " is neither a FOCUS column id (exact case) nor x_-prefixed");
      } else if (custom) {
        problem("FOCUS column " + n + " comes after a custom column");
      }
    }
    COLUMNS.forEach(
        (n, s) -> {
          if (s.level() == Level.M && !seen.contains(n)) {
            problem("Mandatory column " + n + " is missing");
          }
        });
    for (List<String> g : GROUPS) {
      long present = g.stream().filter(seen::contains).count();
      if (present != 0 && present != g.size()) {
        problem("columns " + g + " must be present together");
      }
    }
    requireWhen(facts.usageMeasured(), seen, "ConsumedQuantity", "ConsumedUnit");
    requireWhen(facts.listPrices(), seen, "ListUnitPrice");
    requireWhen(facts.negotiatedPrices(), seen, "ContractedUnitPrice");
    requireWhen(facts.priceList(), seen, "SkuId", "SkuMeter", "SkuPriceId", "SkuPriceDetails");
    requireWhen(facts.subAccounts(), seen, "SubAccountId", "SubAccountName");
    requireWhen(facts.regions(), seen, "RegionId", "RegionName");
    requireWhen(facts.resources(), seen, "ResourceId", "ResourceName");
    requireWhen(facts.commitmentDiscounts(), seen, GROUPS.get(0).toArray(new String[0]));
    requireWhen(
        facts.capacityReservations(), seen, "CapacityReservationId", "CapacityReservationStatus");
    requireWhen(facts.tags(), seen, "Tags");
    requireWhen(facts.severalPricingCategories(), seen, "PricingCategory");
  }

  private void requireWhen(boolean condition, Set<String> seen, String... names) {
    if (condition) {
      for (String n : names) {
        if (!seen.contains(n)) {
          problem("Conditional column " + n + " is missing though its condition holds");
        }
      }
    }
  }

  /** One record's rules, and its part of the dataset-level ones. */
  void record(List<String> values) {
    records++;
    String where = "record " + records;
    if (values.size() != header.size()) {
      problem(where + ": " + values.size() + " values for " + header.size() + " columns");
      return;
    }
    Map<String, String> v = new HashMap<>();
    for (int i = 0; i < header.size(); i++) {
      String value = values.get(i);
      v.put(header.get(i), value.isEmpty() ? null : value);
    }
    for (String n : header) {
      String value = v.get(n);
      if (value != null && PLACEHOLDERS.contains(value.toLowerCase(Locale.ROOT))) {
        problem(
            where + ": " + n + " holds the placeholder '" + value + "' (null is an empty cell)");
      }
      Spec s = COLUMNS.get(n);
      if (s != null && value != null) {
        type(where, n, s.type(), value);
      }
    }
    Row r = new Row(v, where);
    r.rules();
  }

  private void type(String where, String n, Type t, String value) {
    switch (t) {
      case DECIMAL -> {
        if (!DECIMAL.matcher(value).matches()) {
          problem(where + ": " + n + " '" + value + "' is not a FOCUS numeric value");
        }
      }
      case DATE_TIME -> {
        boolean ok = DATE_TIME.matcher(value).matches();
        if (ok) {
          try {
            Instant.parse(value);
          } catch (DateTimeParseException e) {
            ok = false;
          }
        }
        if (!ok) {
          problem(where + ": " + n + " '" + value + "' is not YYYY-MM-DDTHH:mm:ssZ");
        }
      }
      case CURRENCY -> {
        boolean ok = value.matches("[A-Z]{3}");
        if (ok) {
          try {
            Currency.getInstance(value);
          } catch (IllegalArgumentException e) {
            ok = false;
          }
        }
        if (!ok) {
          problem(where + ": " + n + " '" + value + "' is not an ISO 4217 currency code");
        }
      }
      case UNIT -> {
        if (!UNIT.matcher(value).matches()) {
          problem(where + ": " + n + " '" + value + "' is not in the Unit Format");
        }
      }
      case JSON -> keyValue(where, n, value);
      case STRING -> {
        // any text
      }
    }
  }

  private void keyValue(String where, String n, String value) {
    JsonNode node;
    try {
      node = JSON.readTree(value);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      problem(where + ": " + n + " is not JSON with unique keys: " + e.getOriginalMessage());
      return;
    }
    if (node == null || !node.isObject()) {
      problem(where + ": " + n + " is not a JSON object");
      return;
    }
    Set<String> numeric =
        Set.of(
            "CoreCount",
            "DiskMaxIops",
            "DiskSpace",
            "GpuCount",
            "MemorySize",
            "NetworkMaxIops",
            "NetworkMaxThroughput");
    Set<String> text =
        Set.of(
            "DiskType",
            "InstanceType",
            "InstanceSeries",
            "OperatingSystem",
            "Redundancy",
            "StorageClass");
    node.fields()
        .forEachRemaining(
            e -> {
              JsonNode x = e.getValue();
              if (x.isObject() || x.isArray()) {
                problem(where + ": " + n + "." + e.getKey() + " is an object or array");
              }
              if (n.equals("SkuPriceDetails")) {
                String k = e.getKey();
                if (numeric.contains(k) && !x.isNumber()) {
                  problem(where + ": SkuPriceDetails." + k + " must be a number");
                } else if (text.contains(k) && !x.isTextual()) {
                  problem(where + ": SkuPriceDetails." + k + " must be a string");
                } else if (!numeric.contains(k) && !text.contains(k) && !k.startsWith("x_")) {
                  problem(where + ": SkuPriceDetails key " + k + " is not defined nor x_-prefixed");
                }
              }
            });
  }

  /** The row-level rules of one record. */
  private final class Row {
    final Map<String, String> v;
    final String where;
    final String category;
    final boolean correction;
    final boolean usageOrPurchase;

    Row(Map<String, String> v, String where) {
      this.v = v;
      this.where = where;
      this.category = v.get("ChargeCategory");
      this.correction = "Correction".equals(v.get("ChargeClass"));
      this.usageOrPurchase = "Usage".equals(category) || "Purchase".equals(category);
    }

    boolean has(String n) {
      return columns.contains(n);
    }

    String get(String n) {
      return v.get(n);
    }

    void notNull(String... names) {
      for (String n : names) {
        if (has(n) && get(n) == null) {
          problem(where + ": " + n + " must not be null");
        }
      }
    }

    void oneOf(String n, String... allowed) {
      String x = get(n);
      if (x != null && !List.of(allowed).contains(x)) {
        problem(where + ": " + n + " '" + x + "' is not one of " + List.of(allowed));
      }
    }

    /** {@code a} is null if and only if {@code b} is null. */
    void nullIff(String a, String b) {
      if (has(a) && has(b) && (get(a) == null) != (get(b) == null)) {
        problem(where + ": " + a + " must be null exactly when " + b + " is null");
      }
    }

    /** {@code a} is null when {@code b} is. */
    void nullIf(String a, String b) {
      if (has(a) && has(b) && get(b) == null && get(a) != null) {
        problem(where + ": " + a + " must be null when " + b + " is null");
      }
    }

    BigDecimal number(String n) {
      String x = get(n);
      if (x == null || !DECIMAL.matcher(x).matches()) {
        return null;
      }
      return new BigDecimal(x);
    }

    void rules() {
      notNull(
          "BilledCost",
          "BillingAccountId",
          "BillingCurrency",
          "BillingPeriodEnd",
          "BillingPeriodStart",
          "ChargeCategory",
          "ChargePeriodEnd",
          "ChargePeriodStart",
          "ContractedCost",
          "EffectiveCost",
          "InvoiceIssuerName",
          "ListCost",
          "ProviderName",
          "PublisherName",
          "ServiceCategory",
          "ServiceName",
          // SHOULD NOT be null: checked, since an export can always describe its charges.
          "ChargeDescription",
          "ChargeFrequency",
          "ServiceSubcategory",
          // Null only when PricingCurrency is absent per the text (the table allows null).
          "PricingCurrency",
          "PricingCurrencyEffectiveCost");
      oneOf("ChargeCategory", "Usage", "Purchase", "Tax", "Credit", "Adjustment");
      oneOf("ChargeClass", "Correction");
      oneOf("ChargeFrequency", "One-Time", "Recurring", "Usage-Based");
      if ("Purchase".equals(category) && "Usage-Based".equals(get("ChargeFrequency"))) {
        problem(where + ": a Purchase is not Usage-Based");
      }
      oneOf("PricingCategory", "Standard", "Dynamic", "Committed", "Other");
      oneOf("CommitmentDiscountCategory", "Spend", "Usage");
      oneOf("CommitmentDiscountStatus", "Used", "Unused");
      oneOf("CapacityReservationStatus", "Used", "Unused");
      String pricingCurrency = get("PricingCurrency");
      if (pricingCurrency != null && pricingCurrency.isBlank()) {
        problem(where + ": PricingCurrency is blank");
      }
      services();
      prices();
      quantities();
      commitments();
      committedCategory();
      periods();
      costs();
      nullIff("PricingUnit", "PricingQuantity");
      nullIff("ConsumedUnit", "ConsumedQuantity");
      nullIff("RegionName", "RegionId");
      nullIff("SubAccountName", "SubAccountId");
      nullIff("SubAccountType", "SubAccountId");
      nullIff("ResourceType", "ResourceId");
      nullIf("ResourceName", "ResourceId");
      nullIf("SkuMeter", "SkuId");
      nullIf("SkuPriceDetails", "SkuPriceId");
      if (has("BillingAccountType") && get("BillingAccountType") == null) {
        problem(where + ": BillingAccountType must be set (BillingAccountId is never null)");
      }
      String sku = get("SkuId");
      String skuPrice = get("SkuPriceId");
      if (skuPrice != null) {
        String before = skuOfPrice.putIfAbsent(skuPrice, String.valueOf(sku));
        if (before != null && !before.equals(String.valueOf(sku))) {
          problem(where + ": SkuPriceId " + skuPrice + " has two SkuIds");
        }
      }
    }

    void services() {
      String cat = get("ServiceCategory");
      if (cat != null && !SUBCATEGORIES.containsKey(cat)) {
        problem(where + ": ServiceCategory '" + cat + "' is not a FOCUS category");
      }
      String sub = get("ServiceSubcategory");
      if (sub != null && cat != null && SUBCATEGORIES.containsKey(cat)) {
        if (!SUBCATEGORIES.get(cat).contains(sub)) {
          problem(where + ": ServiceSubcategory '" + sub + "' is not one of " + cat + "'s");
        }
      }
      String name = get("ServiceName");
      if (name != null && cat != null) {
        String before = serviceCategory.putIfAbsent(name, cat);
        if (before != null && !before.equals(cat)) {
          problem(where + ": ServiceName " + name + " has two ServiceCategories");
        }
      }
    }

    /** PN: null if Tax; not null if Usage or Purchase and not a correction; unit prices >= 0. */
    void prices() {
      for (String n : PRICE_NULLABILITY) {
        if (!has(n)) {
          continue;
        }
        if ("Tax".equals(category) && get(n) != null) {
          problem(where + ": " + n + " must be null on a Tax row");
        }
        if (usageOrPurchase && !correction && get(n) == null) {
          problem(where + ": " + n + " must be set on a Usage or Purchase row");
        }
      }
      for (String n :
          List.of(
              "ListUnitPrice",
              "ContractedUnitPrice",
              "PricingCurrencyListUnitPrice",
              "PricingCurrencyContractedUnitPrice")) {
        BigDecimal x = number(n);
        if (x != null && x.signum() < 0) {
          problem(where + ": " + n + " is negative");
        }
      }
    }

    void quantities() {
      if (!has("ConsumedQuantity")) {
        return;
      }
      boolean unused = "Unused".equals(get("CommitmentDiscountStatus"));
      boolean shouldBeSet = "Usage".equals(category) && !unused;
      if (!shouldBeSet && get("ConsumedQuantity") != null) {
        problem(where + ": ConsumedQuantity must be null unless a Usage row (not Unused)");
      }
      if (shouldBeSet && !correction && get("ConsumedQuantity") == null) {
        problem(where + ": ConsumedQuantity must be set on a Usage row");
      }
    }

    void commitments() {
      if (!has("CommitmentDiscountId")) {
        return;
      }
      String id = get("CommitmentDiscountId");
      nullIff("CommitmentDiscountCategory", "CommitmentDiscountId");
      nullIff("CommitmentDiscountType", "CommitmentDiscountId");
      nullIf("CommitmentDiscountName", "CommitmentDiscountId");
      nullIf("CommitmentDiscountStatus", "CommitmentDiscountId");
      nullIff("CommitmentDiscountUnit", "CommitmentDiscountQuantity");
      if (id != null && "Usage".equals(category) && get("CommitmentDiscountStatus") == null) {
        problem(where + ": CommitmentDiscountStatus must be set on a commitment's Usage row");
      }
      boolean quantityWanted = usageOrPurchase && id != null;
      if (quantityWanted && !correction && get("CommitmentDiscountQuantity") == null) {
        problem(where + ": CommitmentDiscountQuantity must be set");
      }
      if (!quantityWanted && get("CommitmentDiscountQuantity") != null) {
        problem(where + ": CommitmentDiscountQuantity must be null");
      }
      if (id != null && get("CommitmentDiscountUnit") != null) {
        String before = commitmentUnit.putIfAbsent(id, get("CommitmentDiscountUnit"));
        if (before != null && !before.equals(get("CommitmentDiscountUnit"))) {
          problem(where + ": CommitmentDiscountUnit changes for " + id);
        }
      }
      if ("Purchase".equals(category) && id != null) {
        BigDecimal effective = number("EffectiveCost");
        if (effective != null && effective.signum() != 0) {
          problem(where + ": EffectiveCost must be 0 on a commitment purchase");
        }
        if (has("ResourceId") && !id.equals(get("ResourceId"))) {
          problem(where + ": ResourceId must be the CommitmentDiscountId on its purchase");
        }
      }
      String status = get("CommitmentDiscountStatus");
      if ("Unused".equals(status)) {
        if (!"Usage".equals(category)) {
          problem(where + ": an Unused commitment row is a Usage row");
        }
        if (has("ResourceId") && !id.equals(get("ResourceId"))) {
          problem(where + ": ResourceId must be the CommitmentDiscountId on an Unused row");
        }
        if (has("ConsumedUnit") && get("ConsumedUnit") != null) {
          problem(where + ": ConsumedUnit must be null on an Unused row");
        }
      }
      if ("Used".equals(status)) {
        if (!"Usage".equals(category)) {
          problem(where + ": a Used commitment row is a Usage row");
        }
        if (has("PricingCategory") && !"Committed".equals(get("PricingCategory"))) {
          problem(where + ": PricingCategory must be Committed on a Used commitment row");
        }
        wholeCover();
      }
      if (id != null) {
        // Derived: a commitment's name, category and type are the commitment's, on every row.
        List<String> facts =
            java.util.Arrays.asList(
                get("CommitmentDiscountName"),
                get("CommitmentDiscountCategory"),
                get("CommitmentDiscountType"));
        List<String> before = commitmentFacts.putIfAbsent(id, facts);
        if (before != null && !before.equals(facts)) {
          problem(
              where
                  + ": CommitmentDiscount name, category or type of "
                  + id
                  + " changes: "
                  + facts
                  + " after "
                  + before);
        }
      }
    }

    /**
     * A Used row whose whole pricing quantity the commitment covered (its quantity, in the pricing
     * unit, is the row's pricing quantity) is billed nothing: the commitment is billed on its
     * purchase.
     */
    private void wholeCover() {
      BigDecimal covered = number("CommitmentDiscountQuantity");
      BigDecimal priced = number("PricingQuantity");
      BigDecimal billed = number("BilledCost");
      if (covered != null
          && priced != null
          && billed != null
          && get("CommitmentDiscountUnit") != null
          && get("CommitmentDiscountUnit").equals(get("PricingUnit"))
          && covered.compareTo(priced) == 0
          && billed.signum() != 0) {
        problem(where + ": BilledCost must be 0 on a Used row the commitment covers wholly");
      }
    }

    /**
     * PricingCategory Committed: the charge is subject to an existing commitment (so its id is set)
     * and is not the commitment's purchase.
     */
    private void committedCategory() {
      if (!"Committed".equals(get("PricingCategory"))) {
        return;
      }
      if (get("CommitmentDiscountId") == null) {
        problem(where + ": PricingCategory Committed needs a CommitmentDiscountId");
      }
      if ("Purchase".equals(category)) {
        problem(where + ": a commitment's Purchase is not PricingCategory Committed");
      }
    }

    void periods() {
      before("ChargePeriodStart", "ChargePeriodEnd");
      before("BillingPeriodStart", "BillingPeriodEnd");
    }

    private void before(String start, String end) {
      try {
        if (get(start) != null
            && get(end) != null
            && !Instant.parse(get(start)).isBefore(Instant.parse(get(end)))) {
          problem(where + ": " + start + " must be before " + end);
        }
      } catch (DateTimeParseException e) {
        // reported as a type problem
      }
    }

    /** ListCost = ListUnitPrice x PricingQuantity, and the same for ContractedCost. */
    void costs() {
      if (correction) {
        return;
      }
      product("ListCost", "ListUnitPrice");
      product("ContractedCost", "ContractedUnitPrice");
    }

    private void product(String cost, String unitPrice) {
      BigDecimal c = number(cost);
      BigDecimal p = number(unitPrice);
      BigDecimal q = number("PricingQuantity");
      if (c == null || p == null || q == null) {
        return;
      }
      BigDecimal diff = c.subtract(p.multiply(q)).abs();
      // The three are written to 10 decimal places: their product may differ by that rounding.
      BigDecimal tolerance = new BigDecimal("1E-9").multiply(BigDecimal.ONE.add(p.add(q).abs()));
      if (diff.compareTo(tolerance) > 0) {
        problem(where + ": " + cost + " " + c + " is not " + unitPrice + " x PricingQuantity");
      }
    }
  }
}
