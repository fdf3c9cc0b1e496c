package io.gputelemetry.export;

import io.gputelemetry.accounting.PriceBook;
import io.gputelemetry.store.LedgerRow;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVPrinter;

/**
 * Writes hourly ledger rows as FOCUS 1.2 CSV (RFC 4180, CRLF, a header line), one record per row
 * written, holding nothing of the rows it wrote: an export of any length costs the memory of one
 * record. The grain is charge period (the row's hour) x tenant x model x GPU model;
 * docs/accounting.md ("FOCUS export") gives every column's mapping and why rows without a known
 * cost are left out.
 */
public final class FocusCsv {
  /**
   * Who the export says provides, publishes, invoices and bills; the same on every row (the
   * export.focus.* settings).
   */
  public record Identity(
      String providerName,
      String publisherName,
      String invoiceIssuerName,
      String billingAccountId,
      String billingAccountName) {
    /** The fleet itself: gpu-telemetry accounts for it, under one billing account. */
    public static final Identity DEFAULT =
        new Identity("gpu-telemetry", "gpu-telemetry", "gpu-telemetry", "gpu-fleet", "GPU fleet");
  }

  /** A column: its id, its FOCUS data type, and whether it is one of ours ({@code x_}). */
  public record Column(String name, String dataType) {
    boolean custom() {
      return name.startsWith("x_");
    }
  }

  /** The four costs of a row (USD). */
  public record Costs(double list, double contracted, double effective, double billed) {}

  /**
   * What an export left out because FOCUS cannot say "cost unknown" (every cost column is mandatory
   * and not null, a usage row needs a unit price): GPU time without a price in force (where a
   * tenant-hour or idle hour had no priced second at all) and tokens drawn on no GPU (unmetered),
   * with their tokens and requests. The usage API reports the same figures.
   */
  public record Summary(
      long rows, double omittedGpuSeconds, double omittedTokens, double omittedRequests) {}

  static final String CURRENCY = "USD";
  static final String UNIT = "GPU-Hours";

  /** FOCUS columns (Mandatory, and the Conditional and Recommended ones that apply), then ours. */
  public static final List<Column> COLUMNS =
      List.of(
          new Column("BilledCost", "Decimal"),
          new Column("BillingAccountId", "String"),
          new Column("BillingAccountName", "String"),
          new Column("BillingCurrency", "String"),
          new Column("BillingPeriodEnd", "Date/Time"),
          new Column("BillingPeriodStart", "Date/Time"),
          new Column("ChargeCategory", "String"),
          new Column("ChargeClass", "String"),
          new Column("ChargeDescription", "String"),
          new Column("ChargeFrequency", "String"),
          new Column("ChargePeriodEnd", "Date/Time"),
          new Column("ChargePeriodStart", "Date/Time"),
          new Column("CommitmentDiscountCategory", "String"),
          new Column("CommitmentDiscountId", "String"),
          new Column("CommitmentDiscountName", "String"),
          new Column("CommitmentDiscountQuantity", "Decimal"),
          new Column("CommitmentDiscountStatus", "String"),
          new Column("CommitmentDiscountType", "String"),
          new Column("CommitmentDiscountUnit", "String"),
          new Column("ConsumedQuantity", "Decimal"),
          new Column("ConsumedUnit", "String"),
          new Column("ContractedCost", "Decimal"),
          new Column("EffectiveCost", "Decimal"),
          new Column("InvoiceIssuerName", "String"),
          new Column("ListCost", "Decimal"),
          new Column("ListUnitPrice", "Decimal"),
          new Column("PricingCategory", "String"),
          new Column("PricingQuantity", "Decimal"),
          new Column("PricingUnit", "String"),
          new Column("ProviderName", "String"),
          new Column("PublisherName", "String"),
          new Column("ServiceCategory", "String"),
          new Column("ServiceName", "String"),
          new Column("ServiceSubcategory", "String"),
          new Column("SkuId", "String"),
          new Column("SkuMeter", "String"),
          new Column("SkuPriceDetails", "JSON"),
          new Column("SkuPriceId", "String"),
          new Column("SubAccountId", "String"),
          new Column("SubAccountName", "String"),
          new Column("x_Tenant", "String"),
          new Column("x_Model", "String"),
          new Column("x_GpuModel", "String"),
          new Column("x_Idle", "String"),
          new Column("x_AllocationBasis", "String"),
          new Column("x_GpuSeconds", "Decimal"),
          new Column("x_UnpricedGpuSeconds", "Decimal"),
          new Column("x_EnergyJoules", "Decimal"),
          new Column("x_ActiveEnergyJoules", "Decimal"),
          new Column("x_InputTokens", "Decimal"),
          new Column("x_OutputTokens", "Decimal"),
          new Column("x_Requests", "Decimal"));

  private static final DateTimeFormatter DATE_TIME =
      DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss'Z'").withZone(ZoneOffset.UTC);

  private final CSVPrinter csv;
  private final Identity identity;
  private final Map<String, PriceBook.Commitment> commitments;
  private final String tenant;
  private long rows;
  private double omittedGpuSeconds;
  private double omittedTokens;
  private double omittedRequests;

  /**
   * @param out where the CSV goes (the caller takes what was appended, e.g. per hour)
   * @param tenant null: everyone's rows and the idle ones; else that tenant's rows only
   */
  public FocusCsv(Appendable out, Identity identity, String tenant) {
    this(out, identity, Map.of(), tenant);
  }

  /**
   * @param commitments the price book's commitments by id, for their names and categories (a
   *     committed row whose id the book no longer names gets no name and the category Usage)
   */
  public FocusCsv(
      Appendable out,
      Identity identity,
      Map<String, PriceBook.Commitment> commitments,
      String tenant) {
    this.identity = identity;
    this.commitments = Map.copyOf(commitments);
    this.tenant = tenant;
    try {
      this.csv = new CSVPrinter(out, CSVFormat.RFC4180);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * The export's metadata (FOCUS's schema metadata, readable without opening the data): the FOCUS
   * version and every column with its data type, ours marked as provider columns.
   */
  public static JsonObject metadata() {
    JsonArray columns = new JsonArray();
    for (Column c : COLUMNS) {
      JsonObject col = new JsonObject().put("ColumnName", c.name()).put("DataType", c.dataType());
      if (c.custom()) {
        col.put("ProviderTag", true);
      }
      columns.add(col);
    }
    return new JsonObject()
        .put("SchemaId", SCHEMA_ID)
        .put("FocusVersion", "1.2")
        .put("ColumnDefinition", columns);
  }

  /** The metadata's id, which names this column set; a new column set gets a new id. */
  public static final String SCHEMA_ID = "gpu-telemetry-focus-1.2-v2";

  /** The header line: the column ids. */
  public void header() {
    List<String> names = new ArrayList<>(COLUMNS.size());
    COLUMNS.forEach(c -> names.add(c.name()));
    print(names);
  }

  /**
   * Writes a ledger row as one FOCUS record, or leaves it out: a tenant's GPU share and idle GPU
   * time are charges; a row of another tenant (when writing one tenant's) and rows that are no
   * charge of their own (the TOKENS rows repeat the GPU rows' tokens, GAPS are time no sample
   * covered) are skipped; GPU time without any priced second and unmetered tokens are counted in
   * the {@link #summary()}. Returns whether a record was written.
   */
  public boolean write(LedgerRow r) {
    boolean idle = r.kind() == LedgerRow.Kind.IDLE;
    if (tenant != null && (idle || !tenant.equals(r.tenant()))) {
      return false;
    }
    LedgerRow.Amounts a = r.amounts();
    if (r.kind() == LedgerRow.Kind.UNMETERED
        || ((idle || r.kind() == LedgerRow.Kind.GPU) && a.pricedGpuSeconds() <= 0)) {
      omittedGpuSeconds += a.gpuSeconds();
      omittedTokens += a.inputTokens() + a.outputTokens();
      omittedRequests += a.requests();
      return false;
    }
    if (!idle && r.kind() != LedgerRow.Kind.GPU) {
      return false;
    }
    print(record(r, costs(r)));
    rows++;
    return true;
  }

  /** How many records were written and what was left out, so far. */
  public Summary summary() {
    return new Summary(rows, omittedGpuSeconds, omittedTokens, omittedRequests);
  }

  /**
   * The costs of a row, from the price book's kinds of price (docs/accounting.md, "Prices that
   * match real contracts"): ListCost at on-demand prices, ContractedCost at the contracted ones
   * (list, or spot on a spot node: commitment discounts are not contracted prices in FOCUS),
   * EffectiveCost at the price that applied (the committed rate amortised on a committed node),
   * BilledCost what the usage itself is billed (0 under a commitment, whose purchase is billed on
   * its own). This is the one place that says which figure each cost column shows.
   */
  static Costs costs(LedgerRow r) {
    LedgerRow.Amounts a = r.amounts();
    return new Costs(a.listCostUsd(), a.contractedCostUsd(), a.costUsd(), a.billedCostUsd());
  }

  private List<String> record(LedgerRow r, Costs c) {
    LedgerRow.Amounts a = r.amounts();
    boolean idle = r.kind() == LedgerRow.Kind.IDLE;
    String model = r.model().isEmpty() ? null : r.model();
    String who = idle ? null : r.tenant();
    double pricingQuantity = a.pricedGpuSeconds() / 3600;
    ZonedDateTime month =
        Instant.ofEpochMilli(r.start())
            .atZone(ZoneOffset.UTC)
            .withDayOfMonth(1)
            .toLocalDate()
            .atStartOfDay(ZoneOffset.UTC);
    String sku = "GPU-Hour:" + r.gpuModel();
    Pricing pricing = pricing(r, c);
    Map<String, String> v = new HashMap<>();
    v.put("BilledCost", decimal(c.billed()));
    v.put("BillingAccountId", identity.billingAccountId());
    v.put("BillingAccountName", identity.billingAccountName());
    v.put("BillingCurrency", CURRENCY);
    v.put("BillingPeriodEnd", DATE_TIME.format(month.plusMonths(1)));
    v.put("BillingPeriodStart", DATE_TIME.format(month));
    v.put("ChargeCategory", "Usage");
    v.put("ChargeClass", null);
    v.put("ChargeDescription", description(idle, model, who, r.gpuModel()) + pricing.described());
    v.put("ChargeFrequency", "Usage-Based");
    v.put("ChargePeriodEnd", DATE_TIME.format(Instant.ofEpochMilli(r.end())));
    v.put("ChargePeriodStart", DATE_TIME.format(Instant.ofEpochMilli(r.start())));
    commitment(v, pricing.commitment(), pricingQuantity, c);
    v.put("ConsumedQuantity", decimal(a.gpuSeconds() / 3600));
    v.put("ConsumedUnit", UNIT);
    v.put("ContractedCost", decimal(c.contracted()));
    v.put("EffectiveCost", decimal(c.effective()));
    v.put("InvoiceIssuerName", identity.invoiceIssuerName());
    v.put("ListCost", decimal(c.list()));
    // The time-weighted mean of the prices in force over the row's priced time: the price book's
    // price, unless it changed within the hour; ListCost = ListUnitPrice x PricingQuantity.
    v.put("ListUnitPrice", decimal(c.list() / pricingQuantity));
    v.put("PricingCategory", pricing.category());
    v.put("PricingQuantity", decimal(pricingQuantity));
    v.put("PricingUnit", UNIT);
    v.put("ProviderName", identity.providerName());
    v.put("PublisherName", identity.publisherName());
    v.put("ServiceCategory", "AI and Machine Learning");
    v.put("ServiceName", "LLM Inference");
    v.put("ServiceSubcategory", "Generative AI");
    v.put("SkuId", sku);
    v.put("SkuMeter", "GPU Time");
    v.put(
        "SkuPriceDetails",
        new JsonObject().put("GpuCount", 1).put("x_GpuModel", r.gpuModel()).encode());
    v.put("SkuPriceId", sku + pricing.skuPriceSuffix());
    v.put("SubAccountId", who);
    v.put("SubAccountName", who);
    v.put("x_Tenant", who);
    v.put("x_Model", model);
    v.put("x_GpuModel", r.gpuModel());
    v.put("x_Idle", Boolean.toString(idle));
    v.put("x_AllocationBasis", idle ? "unallocated" : "tokens");
    v.put("x_GpuSeconds", decimal(a.gpuSeconds()));
    v.put("x_UnpricedGpuSeconds", decimal(a.unpricedGpuSeconds()));
    v.put("x_EnergyJoules", decimal(a.energyJ()));
    v.put("x_ActiveEnergyJoules", decimal(a.activeEnergyJ()));
    v.put("x_InputTokens", decimal(a.inputTokens()));
    v.put("x_OutputTokens", decimal(a.outputTokens()));
    v.put("x_Requests", decimal(a.requests()));
    List<String> out = new ArrayList<>(COLUMNS.size());
    for (Column col : COLUMNS) {
      if (!v.containsKey(col.name())) {
        throw new IllegalStateException("no value for " + col.name());
      }
      out.add(v.get(col.name()));
    }
    return out;
  }

  /**
   * How a row was priced: FOCUS's PricingCategory, the commitment of a committed row (else null),
   * the suffix of its SkuPriceId (one price point per kind and commitment, under one SkuId) and of
   * its description.
   */
  record Pricing(
      String category, PriceBook.Commitment commitment, String skuPriceSuffix, String described) {}

  /**
   * The price kind of a row: on-demand is Standard (the agreed list price), spot Dynamic (a price
   * the provider sets and changes), committed Committed (usage under an existing commitment). A row
   * written before the ledger kept price kinds is Standard when its costs show no discount, and
   * Other when they do (its commitment, if any, is not known).
   */
  Pricing pricing(LedgerRow r, Costs c) {
    switch (r.priceKind()) {
      case "on_demand" -> {
        return new Pricing("Standard", null, "", "");
      }
      case "spot" -> {
        return new Pricing("Dynamic", null, ":spot", ", at spot prices");
      }
      case "committed" -> {
        PriceBook.Commitment known = commitments.get(r.commitment());
        PriceBook.Commitment m =
            new PriceBook.Commitment(
                r.commitment(),
                known == null ? null : known.name(),
                known == null || known.category() == null ? "Usage" : known.category());
        return new Pricing(
            "Committed", m, ":committed:" + r.commitment(), ", under commitment " + r.commitment());
      }
      default -> {
        boolean listed = c.effective() == c.list() && c.billed() == c.list();
        return new Pricing(listed ? "Standard" : "Other", null, "", "");
      }
    }
  }

  /**
   * The commitment columns: all null off a commitment. On a committed row (all of whose time the
   * commitment covered) the commitment's id, name and category, its type (Reservation for a Usage
   * commitment, Savings Plan for a Spend one), status Used, and the quantity it covered: GPU-hours
   * (the pricing quantity) for a Usage commitment, the amortised amount drawn (the effective cost,
   * in the billing currency) for a Spend one.
   */
  private static void commitment(
      Map<String, String> v, PriceBook.Commitment m, double pricingQuantity, Costs c) {
    boolean usage = m != null && m.category().equals("Usage");
    v.put("CommitmentDiscountCategory", m == null ? null : m.category());
    v.put("CommitmentDiscountId", m == null ? null : m.id());
    v.put("CommitmentDiscountName", m == null ? null : m.name());
    v.put(
        "CommitmentDiscountQuantity",
        m == null ? null : decimal(usage ? pricingQuantity : c.effective()));
    v.put("CommitmentDiscountStatus", m == null ? null : "Used");
    v.put("CommitmentDiscountType", m == null ? null : usage ? "Reservation" : "Savings Plan");
    v.put("CommitmentDiscountUnit", m == null ? null : usage ? UNIT : CURRENCY);
  }

  private static String description(boolean idle, String model, String tenant, String gpuModel) {
    if (!idle) {
      return "GPU time of " + model + " on " + gpuModel + ", allocated to " + tenant + " by tokens";
    }
    return model == null
        ? "Idle GPU time on " + gpuModel + " serving no model"
        : "Idle GPU time of " + model + " on " + gpuModel + " (no tokens to allocate it to)";
  }

  /**
   * A FOCUS decimal: plain digits (never an exponent, never a '+'), at most 10 decimal places,
   * trailing zeros dropped, zero as "0".
   */
  static String decimal(double d) {
    if (!Double.isFinite(d)) {
      throw new IllegalArgumentException("not a finite number: " + d);
    }
    BigDecimal b = BigDecimal.valueOf(d).setScale(10, RoundingMode.HALF_EVEN).stripTrailingZeros();
    return b.signum() == 0 ? "0" : b.toPlainString();
  }

  private void print(List<String> values) {
    try {
      csv.printRecord(values);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
