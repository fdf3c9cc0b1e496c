package io.gputelemetry.export;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gputelemetry.accounting.PriceBook;
import io.gputelemetry.store.LedgerRow;
import java.io.IOException;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVPrinter;
import org.junit.jupiter.api.Test;

/**
 * The validator the export is checked with finds what it is there to find: a valid export passes,
 * and each kind of breach of the spec, made in a copy of it, is reported.
 */
class FocusConformanceTest {
  private static final long F = 1_800_000_000_000L;
  private static final long H = 3_600_000L;

  /**
   * A valid export: a tenant's on-demand row, an idle on-demand row, a tenant's rows under a Usage
   * commitment (record 3) and a Spend one (record 4), and a spot row (record 5).
   */
  private static String valid() {
    StringBuilder out = new StringBuilder();
    FocusCsv csv =
        new FocusCsv(
            out,
            FocusCsv.Identity.DEFAULT,
            Map.of(
                "ri-1", new PriceBook.Commitment("ri-1", "H100 reservation", "Usage"),
                "sp-1", new PriceBook.Commitment("sp-1", "Savings plan", "Spend")),
            null);
    csv.header();
    LedgerRow.Amounts a =
        new LedgerRow.Amounts(90, 90, 0, 0.09, 0.09, 0.09, 0.09, 9000, 9000, 10, 5, 1, 15, 0, 0, 0);
    LedgerRow.Amounts committed =
        new LedgerRow.Amounts(90, 90, 0, 0.05, 0.09, 0.09, 0, 9000, 9000, 10, 5, 1, 15, 0, 0, 0);
    LedgerRow.Amounts spot =
        new LedgerRow.Amounts(90, 90, 0, 0.03, 0.09, 0.03, 0.03, 9000, 9000, 10, 5, 1, 15, 0, 0, 0);
    csv.write(new LedgerRow(F, F + H, LedgerRow.Kind.GPU, "m", "acme", "H100", "on_demand", "", a));
    csv.write(new LedgerRow(F, F + H, LedgerRow.Kind.IDLE, "m", "", "H100", "on_demand", "", a));
    csv.write(
        new LedgerRow(
            F, F + H, LedgerRow.Kind.GPU, "m", "acme", "H100", "committed", "ri-1", committed));
    csv.write(
        new LedgerRow(
            F, F + H, LedgerRow.Kind.GPU, "m", "acme", "H100", "committed", "sp-1", committed));
    csv.write(new LedgerRow(F, F + H, LedgerRow.Kind.GPU, "m", "acme", "H100", "spot", "", spot));
    return out.toString();
  }

  /** The header and the records as cells. */
  private static List<List<String>> cells(String csv) {
    List<List<String>> rows = new ArrayList<>();
    try (CSVParser p = CSVFormat.RFC4180.parse(new StringReader(csv))) {
      p.forEach(r -> rows.add(new ArrayList<>(r.toList())));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return rows;
  }

  private static String join(List<List<String>> rows) {
    StringBuilder sb = new StringBuilder();
    try (CSVPrinter p = new CSVPrinter(sb, CSVFormat.RFC4180)) {
      for (List<String> r : rows) {
        p.printRecord(r);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return sb.toString();
  }

  /** The valid export with one cell of record 1 set to {@code value}. */
  private static String with(String column, String value) {
    return with(1, column, value);
  }

  /** The valid export with one cell of record {@code record} set to {@code value}. */
  private static String with(int record, String column, String value) {
    List<List<String>> rows = cells(valid());
    int i = rows.get(0).indexOf(column);
    rows.get(record).set(i, value);
    return join(rows);
  }

  /** The valid export with its header changed. */
  private static String header(UnaryOperator<List<String>> change) {
    List<List<String>> rows = cells(valid());
    List<String> h = change.apply(rows.get(0));
    rows.set(0, h);
    return join(rows);
  }

  private static void reported(String csv, String phrase) {
    List<String> problems = FocusConformance.check(csv, FocusExportTest.FACTS);
    assertTrue(
        problems.stream().anyMatch(p -> p.contains(phrase)),
        "expected a problem with '" + phrase + "', got " + problems);
  }

  @Test
  void aValidExportPasses() {
    assertEquals(List.of(), FocusConformance.check(valid(), FocusExportTest.FACTS));
  }

  @Test
  void numbersWithAPlusACommaASymbolOrAPositiveExponentAreRefused() {
    reported(with("BilledCost", "+0.09"), "BilledCost '+0.09' is not a FOCUS numeric value");
    reported(with("BilledCost", "35.2E+7"), "not a FOCUS numeric value");
    reported(with("BilledCost", "$0.09"), "not a FOCUS numeric value");
    reported(with("PricingQuantity", "3432"), "ListCost");
    assertEquals(
        List.of(), FocusConformance.check(with("x_Requests", "35.2E-7"), FocusExportTest.FACTS));
  }

  @Test
  void dateTimesMustBeUtcWithZ() {
    reported(with("ChargePeriodStart", "2027-01-15T08:00:00+00:00"), "is not YYYY-MM-DDTHH:mm:ssZ");
    reported(with("ChargePeriodStart", "2027-01-15T08:00:00"), "is not YYYY-MM-DDTHH:mm:ssZ");
    reported(with("BillingPeriodStart", "2027-01-01"), "is not YYYY-MM-DDTHH:mm:ssZ");
    reported(with("ChargePeriodEnd", "2027-01-15T30:00:00Z"), "is not YYYY-MM-DDTHH:mm:ssZ");
    reported(with("ChargePeriodEnd", "2027-01-15T08:00:00Z"), "must be before ChargePeriodEnd");
    reported(with("BillingPeriodEnd", "2026-12-01T00:00:00Z"), "must be before BillingPeriodEnd");
  }

  @Test
  void mandatoryValuesAllowedValuesAndPlaceholdersAreChecked() {
    reported(with("BilledCost", ""), "BilledCost must not be null");
    reported(with("ProviderName", ""), "ProviderName must not be null");
    reported(with("ChargeCategory", "Fee"), "ChargeCategory 'Fee' is not one of");
    reported(with("ChargeClass", "Adjustment"), "ChargeClass 'Adjustment'");
    reported(with("PricingCategory", "OnDemand"), "PricingCategory 'OnDemand'");
    reported(with("BillingCurrency", "usd"), "is not an ISO 4217 currency code");
    reported(with("BillingCurrency", "ABC"), "is not an ISO 4217 currency code");
    reported(with("ServiceCategory", "GPU"), "ServiceCategory 'GPU' is not a FOCUS category");
    reported(with("ServiceSubcategory", "Virtual Machines"), "is not one of AI and Machine");
    reported(with("BillingAccountName", "null"), "placeholder 'null'");
    reported(with("ListUnitPrice", "-1"), "ListUnitPrice is negative");
    reported(with("ListUnitPrice", ""), "ListUnitPrice must be set on a Usage or Purchase row");
    reported(with("ChargeCategory", "Tax"), "ListUnitPrice must be null on a Tax row");
    reported(with("ChargeCategory", "Credit"), "ConsumedQuantity must be null unless a Usage");
  }

  @Test
  void unitsFollowTheUnitFormat() {
    reported(with("PricingUnit", "1M Tokens"), "'1M Tokens' is not in the Unit Format");
    reported(with("PricingUnit", "GPU-hours"), "is not in the Unit Format");
    reported(with("ConsumedUnit", "GPU per Hour"), "is not in the Unit Format");
    for (String ok :
        List.of("GB", "Tokens", "GB-Hours", "GB/Hour", "1000 Tokens", "Units/3 Months")) {
      List<String> p = FocusConformance.check(with("ConsumedUnit", ok), FocusExportTest.FACTS);
      assertEquals(List.of(), p, ok);
    }
  }

  @Test
  void pairedColumnsAreNullTogether() {
    reported(with("PricingUnit", ""), "PricingUnit must be null exactly when PricingQuantity");
    reported(with("ConsumedUnit", ""), "ConsumedUnit must be null exactly when ConsumedQuantity");
    reported(with("SubAccountName", ""), "SubAccountName must be null exactly when SubAccountId");
    reported(with("ListCost", "1"), "ListCost 1 is not ListUnitPrice x PricingQuantity");
  }

  @Test
  void keyValueColumnsAreJsonObjectsOfScalarsWithDefinedOrCustomKeys() {
    reported(with("SkuPriceDetails", "[1]"), "is not a JSON object");
    reported(with("SkuPriceDetails", "{\"GpuCount\":\"one\"}"), "GpuCount must be a number");
    reported(with("SkuPriceDetails", "{\"Gpus\":1}"), "key Gpus is not defined");
    reported(
        with("SkuPriceDetails", "{\"GpuCount\":1,\"GpuCount\":2}"), "not JSON with unique keys");
    reported(with("SkuPriceDetails", "{\"GpuCount\":"), "not JSON");
  }

  @Test
  void headersAreExactIdsWithMandatoryOnesAndGroupsComplete() {
    reported(header(h -> rename(h, "SkuPriceId", "SkuPriceid")), "SkuPriceid is neither");
    reported(header(h -> rename(h, "ProviderName", "Provider")), "Mandatory column ProviderName");
    reported(header(h -> rename(h, "x_Tenant", "Tenant")), "Tenant is neither");
    reported(
        header(h -> rename(h, "ConsumedUnit", "x_ConsumedUnit")),
        "[ConsumedQuantity, ConsumedUnit] must be present together");
    reported(
        header(h -> rename(h, "ListUnitPrice", "x_ListUnitPrice")),
        "Conditional column ListUnitPrice is missing");
    List<String> moved = new ArrayList<>(cells(valid()).get(0));
    moved.add(0, moved.remove(moved.indexOf("x_Model")));
    List<List<String>> rows = cells(valid());
    rows.set(0, moved);
    reported(join(rows), "FOCUS column BilledCost comes after a custom column");
  }

  private static List<String> rename(List<String> h, String from, String to) {
    h.set(h.indexOf(from), to);
    return h;
  }

  @Test
  void oneServiceNameHasOneCategoryAndOneSkuPriceIdOneSku() {
    List<List<String>> rows = cells(valid());
    List<String> h = rows.get(0);
    rows.get(2).set(h.indexOf("ServiceCategory"), "Compute");
    rows.get(2).set(h.indexOf("ServiceSubcategory"), "Containers");
    reported(join(rows), "ServiceName LLM Inference has two ServiceCategories");
    rows = cells(valid());
    rows.get(2).set(h.indexOf("SkuId"), "other");
    reported(join(rows), "has two SkuIds");
  }

  @Test
  void theExportsCommittedAndSpotRowsCarryTheirCategoriesAndCommitments() {
    List<List<String>> rows = cells(valid());
    List<String> h = rows.get(0);
    java.util.function.BiFunction<Integer, String, String> at =
        (r, c) -> rows.get(r).get(h.indexOf(c));
    assertEquals("Standard", at.apply(1, "PricingCategory"));
    assertEquals("", at.apply(1, "CommitmentDiscountId"));
    assertEquals("", at.apply(1, "CommitmentDiscountQuantity"));
    assertEquals("Committed", at.apply(3, "PricingCategory"));
    assertEquals("ri-1", at.apply(3, "CommitmentDiscountId"));
    assertEquals("H100 reservation", at.apply(3, "CommitmentDiscountName"));
    assertEquals("Usage", at.apply(3, "CommitmentDiscountCategory"));
    assertEquals("Reservation", at.apply(3, "CommitmentDiscountType"));
    assertEquals("Used", at.apply(3, "CommitmentDiscountStatus"));
    assertEquals("0.025", at.apply(3, "CommitmentDiscountQuantity"), "90 s in GPU-hours");
    assertEquals("GPU-Hours", at.apply(3, "CommitmentDiscountUnit"));
    assertEquals("0", at.apply(3, "BilledCost"));
    assertEquals("0.05", at.apply(3, "EffectiveCost"));
    assertEquals("GPU-Hour:H100:committed:ri-1", at.apply(3, "SkuPriceId"));
    assertEquals("GPU-Hour:H100", at.apply(3, "SkuId"));
    assertEquals("Spend", at.apply(4, "CommitmentDiscountCategory"));
    assertEquals("Savings Plan", at.apply(4, "CommitmentDiscountType"));
    assertEquals("0.05", at.apply(4, "CommitmentDiscountQuantity"), "the amount drawn");
    assertEquals("USD", at.apply(4, "CommitmentDiscountUnit"));
    assertEquals("Dynamic", at.apply(5, "PricingCategory"));
    assertEquals("GPU-Hour:H100:spot", at.apply(5, "SkuPriceId"));
    assertEquals("0.03", at.apply(5, "ContractedCost"));
  }

  @Test
  void commitmentColumnsFollowTheirConditions() {
    reported(
        with(1, "PricingCategory", "Committed"), "PricingCategory Committed needs a Commitment");
    reported(
        with(3, "PricingCategory", "Standard"),
        "PricingCategory must be Committed on a Used commitment row");
    reported(with(3, "CommitmentDiscountCategory", ""), "CommitmentDiscountCategory must be null");
    reported(with(3, "CommitmentDiscountType", ""), "CommitmentDiscountType must be null");
    reported(with(1, "CommitmentDiscountName", "x"), "CommitmentDiscountName must be null when");
    reported(with(1, "CommitmentDiscountStatus", "Used"), "CommitmentDiscountStatus must be null");
    reported(with(3, "CommitmentDiscountStatus", ""), "CommitmentDiscountStatus must be set");
    reported(
        with(3, "CommitmentDiscountStatus", "Active"), "'Active' is not one of [Used, Unused]");
    reported(
        with(3, "CommitmentDiscountCategory", "Hours"), "'Hours' is not one of [Spend, Usage]");
    reported(with(3, "CommitmentDiscountQuantity", ""), "CommitmentDiscountQuantity must be set");
    reported(with(1, "CommitmentDiscountQuantity", "1"), "CommitmentDiscountQuantity must be null");
    reported(with(3, "CommitmentDiscountUnit", ""), "CommitmentDiscountUnit must be null exactly");
    reported(with(3, "CommitmentDiscountUnit", "GPU Hours"), "is not in the Unit Format");
    reported(with(3, "BilledCost", "0.01"), "BilledCost must be 0 on a Used row the commitment");
    reported(
        with(3, "ChargeCategory", "Purchase"), "EffectiveCost must be 0 on a commitment purchase");
    reported(
        with(3, "ChargeCategory", "Purchase"), "a commitment's Purchase is not PricingCategory");
    reported(with(3, "ChargeCategory", "Credit"), "a Used commitment row is a Usage row");
    // Unused: a Usage row of the commitment itself, with nothing consumed.
    reported(
        with(3, "CommitmentDiscountStatus", "Unused"), "ConsumedUnit must be null on an Unused");
    reported(with(3, "CommitmentDiscountStatus", "Unused"), "ConsumedQuantity must be null unless");
    List<List<String>> rows = cells(valid());
    List<String> names = rows.get(0);
    // Record 4 as a second row of ri-1, in its unit: its Spend category and name are another's.
    rows.get(4).set(names.indexOf("CommitmentDiscountId"), "ri-1");
    rows.get(4).set(names.indexOf("CommitmentDiscountUnit"), "GPU-Hours");
    reported(join(rows), "name, category or type of ri-1 changes");
    reported(with(4, "CommitmentDiscountId", "ri-1"), "CommitmentDiscountUnit changes for ri-1");
    reported(
        header(h -> rename(h, "CommitmentDiscountType", "x_CommitmentDiscountType")),
        "must be present together");
    reported(
        header(h -> rename(h, "PricingCategory", "x_PricingCategory")),
        "Conditional column PricingCategory is missing though its condition holds");
  }
}
