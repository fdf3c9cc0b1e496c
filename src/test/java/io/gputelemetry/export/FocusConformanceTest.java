package io.gputelemetry.export;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gputelemetry.store.LedgerRow;
import java.io.IOException;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
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

  /** A valid export: a tenant's row and an idle row. */
  private static String valid() {
    StringBuilder out = new StringBuilder();
    FocusCsv csv = new FocusCsv(out, FocusCsv.Identity.DEFAULT, null);
    csv.header();
    LedgerRow.Amounts a =
        new LedgerRow.Amounts(90, 90, 0, 0.09, 0.12, 0.12, 0, 9000, 9000, 10, 5, 1, 15, 0, 0, 0);
    csv.write(new LedgerRow(F, F + H, LedgerRow.Kind.GPU, "m", "acme", "H100", a));
    csv.write(new LedgerRow(F, F + H, LedgerRow.Kind.IDLE, "m", "", "H100", a));
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
    List<List<String>> rows = cells(valid());
    int i = rows.get(0).indexOf(column);
    rows.get(1).set(i, value);
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
}
