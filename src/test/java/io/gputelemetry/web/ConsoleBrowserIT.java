package io.gputelemetry.web;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gputelemetry.support.HeadlessChromium;
import io.gputelemetry.support.JarProcess;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;

/**
 * The web console in a real browser (Debian's headless Chromium through chromedriver) against the
 * built jar, run as a user runs it: standalone, a bounded simulator run that keeps serving once
 * everything is stored ({@code --keep-serving}), read authorization on, tenant budgets. Each page
 * is opened with a key and what it shows is checked against the JSON API for the same range. Any
 * browser-console error or failed request fails the test. Screenshots of each page, light and dark,
 * go to {@code target/console-screenshots/}.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ConsoleBrowserIT {
  private static final String READ_KEY = "console-read-key-0123456789abcdef";
  private static final String TENANT_KEY = "console-acme-key-0123456789abcdef";
  private static final Path SHOTS = Path.of("target", "console-screenshots");
  private static final Path DOWNLOADS = Path.of("target", "console-downloads");
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final Pattern HTTP = Pattern.compile("http://127\\.0\\.0\\.1:(\\d+)/");
  private static final Pattern COMPLETE =
      Pattern.compile(
          "run complete: ((\\d+) events acknowledged by Kafka, (\\d+) stored, (\\d+) duplicates,"
              + " (\\d+) dead-lettered)");

  private static JarProcess jar;
  private static ChromeDriver browser;
  private static String base;
  private static String console;
  private static long stored;
  private static final HttpClient HTTP_CLIENT =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  @BeforeAll
  static void startJarAndBrowser() throws Exception {
    Path keys = Files.createTempFile("console-keys", ".txt");
    Files.writeString(
        keys,
        "reader:"
            + sha256(READ_KEY)
            + ":read\n"
            + "acme-reader:"
            + sha256(TENANT_KEY)
            + ":read:tenant=acme\n");
    // Budgets of the size of this run's spend, so that the page shows each state.
    Path budgets = Files.createTempFile("console-budgets", ".json");
    Files.writeString(
        budgets,
        "{\"budgets\": [{\"tenant\": \"acme\", \"monthly_usd\": 0.005, \"monthly_kwh\": 0.002},"
            + " {\"tenant\": \"globex\", \"monthly_usd\": 0.0065}]}");
    Files.createDirectories(SHOTS);
    Files.createDirectories(DOWNLOADS);
    browser = HeadlessChromium.start(DOWNLOADS);
    jar =
        JarProcess.start(
            "--http-port",
            "0",
            "--rate",
            "200",
            "--count",
            "400",
            "--keep-serving",
            "--set",
            "auth.keys-file=" + keys,
            "--set",
            "budgets.file=" + budgets,
            "--set",
            "budgets.interval=1s");
    // Everything the bounded run produced is stored (or dead-lettered) before any page opens; the
    // jar logs that, and keeps serving.
    await().atMost(Duration.ofSeconds(120)).until(() -> jar.find(COMPLETE) != null || !jar.alive());
    assertTrue(jar.alive(), "still serving after the bounded run:\n" + jar.output());
    Matcher done = COMPLETE.matcher(jar.output());
    assertTrue(done.find(), jar.output());
    long acked = Long.parseLong(done.group(2));
    stored = Long.parseLong(done.group(3));
    assertEquals(
        acked,
        stored + Long.parseLong(done.group(4)) + Long.parseLong(done.group(5)),
        done.group(1));
    await()
        .atMost(WAIT)
        .until(
            () -> jar.output().contains("serving until stopped (simulator.exit-when-done=false)"));
    Instant complete = Instant.now();
    base = "http://127.0.0.1:" + jar.find(HTTP);
    console = base + "/";
    // The budget status the page shows is computed after everything was stored.
    await()
        .atMost(WAIT)
        .until(
            () -> {
              JsonObject b = lastHour(TENANT_KEY).getJsonObject("budget");
              return b != null
                  && b.getString("as_of") != null
                  && Instant.parse(b.getString("as_of")).isAfter(complete);
            });
    browser.get(console);
    logIn(READ_KEY);
  }

  @AfterAll
  static void stop() throws Exception {
    if (browser != null) {
      browser.quit();
    }
    if (jar != null) {
      jar.stopAndDrain(30);
      jar.close();
    }
  }

  /** A browser-console error or a failed request (Chromium logs both) fails the test. */
  @AfterEach
  void noBrowserErrors() {
    assertEquals(List.of(), HeadlessChromium.consoleErrors(browser), "the browser's console");
  }

  @Test
  @Order(1)
  void fleetGridListsEveryGpuWithItsValues() throws Exception {
    open("#/fleet", "fleet");
    JsonArray gpus = api("/api/v1/gpus?limit=1000", READ_KEY).getJsonArray("gpus");
    assertEquals(8, gpus.size(), "the simulator's 2 nodes x 4 GPUs");
    List<WebElement> rows = browser.findElements(By.cssSelector("#fleet-table tbody tr"));
    assertEquals(gpus.size(), rows.size());
    for (int i = 0; i < gpus.size(); i++) {
      JsonObject g = gpus.getJsonObject(i);
      JsonObject last = g.getJsonObject("last");
      List<String> cells =
          cells(
              browser.findElement(
                  By.cssSelector("#fleet-table tr[data-uuid='" + g.getString("gpu_uuid") + "']")));
      assertEquals(g.getString("status"), cells.get(0));
      assertEquals(g.getString("node"), cells.get(1));
      assertEquals(g.getString("gpu_model"), cells.get(3));
      assertEquals(g.getString("model"), cells.get(4));
      assertEquals(decimals(last.getDouble("utilization_pct"), 1) + " %", cells.get(5));
      assertEquals(
          decimals(last.getDouble("memory_used_mib") / 1024, 1)
              + " GiB / "
              + decimals(last.getDouble("memory_total_mib") / 1024, 1)
              + " GiB",
          cells.get(6));
      assertEquals(decimals(last.getDouble("power_w"), 0) + " W", cells.get(7));
      assertEquals(decimals(last.getDouble("temperature_c"), 0) + " °C", cells.get(8));
    }
    assertEquals(
        "8", cardValue("GPUs"), "the headline count is the inventory's: " + cardValue("GPUs"));
    screenshots("fleet");
    // Sorted by the server: a column heading asks for that order, descending the second time.
    for (String sort : List.of("power_w", "-power_w")) {
      browser.findElement(By.cssSelector("#fleet-table th[data-key='power'] button")).click();
      List<String> expected =
          api("/api/v1/gpus?sort=" + sort, READ_KEY).getJsonArray("gpus").stream()
              .map(o -> ((JsonObject) o).getString("gpu_uuid"))
              .toList();
      await()
          .atMost(WAIT)
          .ignoreExceptions()
          .until(
              () ->
                  browser.findElements(By.cssSelector("#fleet-table tbody tr")).stream()
                      .map(r -> r.getAttribute("data-uuid"))
                      .toList()
                      .equals(expected));
    }
  }

  @Test
  @Order(2)
  void aModelsCostPerMillionTokensIsTheApis() throws Exception {
    open("#/models?window=1h", "models");
    WebElement table = browser.findElement(By.id("models-table"));
    JsonObject report = shownRange(table, "model", READ_KEY);
    JsonArray groups = report.getJsonArray("groups");
    assertEquals(3, groups.size(), "the simulator's three models");
    for (int i = 0; i < groups.size(); i++) {
      JsonObject g = groups.getJsonObject(i);
      WebElement row =
          table.findElement(By.cssSelector("tr[data-model='" + g.getString("key") + "']"));
      String shown = row.findElement(By.cssSelector("td.cost")).getText();
      assertMoney(g.getDouble("cost_per_1m_tokens_usd"), shown, g.getString("key"));
    }
    // Latency: the simulator's requests carry latency_ms (no time to first token).
    JsonArray latency =
        api(
                "/api/v1/latency?from="
                    + table.getAttribute("data-from")
                    + "&to="
                    + table.getAttribute("data-to"),
                READ_KEY)
            .getJsonArray("models");
    assertEquals(3, latency.size(), latency.encode());
    for (int i = 0; i < latency.size(); i++) {
      JsonObject m = latency.getJsonObject(i);
      WebElement row =
          table.findElement(By.cssSelector("tr[data-model='" + m.getString("model") + "']"));
      JsonObject l = m.getJsonObject("latency_ms");
      assertEquals(
          millis(l.getDouble("p50")) + " / " + millis(l.getDouble("p99")),
          row.findElement(By.cssSelector("td.latency .v")).getText(),
          m.getString("model"));
      assertEquals("—", row.findElement(By.cssSelector("td.ttft")).getText());
    }
    screenshots("models");
  }

  @Test
  @Order(3)
  void usageTotalsAreTheUsageApisForTheSameRange() throws Exception {
    Instant to = Instant.now().plus(1, ChronoUnit.HOURS).truncatedTo(ChronoUnit.HOURS);
    Instant from = to.minus(2, ChronoUnit.HOURS);
    open("#/usage?range=custom&groupBy=tenant&from=" + enc(from) + "&to=" + enc(to), "usage");
    WebElement table = browser.findElement(By.id("usage-table"));
    assertEquals(from.toString(), table.getAttribute("data-from").replace(".000Z", "Z"));
    JsonObject report = shownRange(table, "tenant", READ_KEY);
    JsonObject totals = report.getJsonObject("totals");
    List<String> total = cells(table.findElement(By.cssSelector("tfoot tr.total")));
    assertEquals("Total", total.get(0));
    assertEquals(count(totals.getDouble("total_tokens")), total.get(3));
    assertEquals(count(totals.getDouble("requests")), total.get(4));
    assertMoney(totals.getDouble("cost_usd"), total.get(5), "total cost");
    List<String> keys =
        table.findElements(By.cssSelector("tbody tr.group")).stream()
            .map(r -> r.getAttribute("data-key"))
            .toList();
    List<String> apiKeys =
        report.getJsonArray("groups").stream().map(o -> ((JsonObject) o).getString("key")).toList();
    assertEquals(apiKeys, keys);
    assertEquals(5, keys.size(), "the simulator's five tenants");
    screenshots("usage");
  }

  @Test
  @Order(4)
  void theCsvHasTheTablesRowsWithTheApisNumbers() throws Exception {
    WebElement table = browser.findElement(By.id("usage-table"));
    JsonObject report = shownRange(table, "tenant", READ_KEY);
    String csv =
        (String)
            ((JavascriptExecutor) browser)
                .executeAsyncScript(
                    "const done = arguments[arguments.length - 1];"
                        + "fetch(document.getElementById('usage-csv').href)"
                        + ".then(r => r.text()).then(done, e => done('failed: ' + e));");
    // The download's lines end in CRLF; the WebDriver protocol may hand them over as LF.
    List<String> lines = List.of(csv.split("\r?\n"));
    assertEquals(
        "line,tenant,from,to,input_tokens,output_tokens,total_tokens,requests,cost_usd,"
            + "cost_per_1m_tokens_usd,energy_j,joules_per_token,gpu_seconds,unpriced_gpu_seconds,"
            + "unmetered_tokens",
        lines.get(0));
    JsonArray groups = report.getJsonArray("groups");
    assertEquals(groups.size() + 2, lines.size() - 1, "a row per group, the idle line, the total");
    for (int i = 0; i < groups.size(); i++) {
      JsonObject g = groups.getJsonObject(i);
      String[] f = lines.get(i + 1).split(",", -1);
      assertEquals("group", f[0]);
      assertEquals(g.getString("key"), f[1]);
      assertEquals(g.getDouble("total_tokens"), Double.parseDouble(f[6]), f[1]);
      assertEquals(g.getDouble("requests"), Double.parseDouble(f[7]), f[1]);
      assertEquals(g.getDouble("cost_usd"), Double.parseDouble(f[8]), f[1]);
      assertEquals(g.getDouble("energy_j"), Double.parseDouble(f[10]), f[1]);
    }
    String[] total = lines.get(lines.size() - 1).split(",", -1);
    assertEquals("total", total[0]);
    assertEquals(
        report.getJsonObject("totals").getDouble("cost_usd"), Double.parseDouble(total[8]));
  }

  @Test
  @Order(5)
  void budgetStatusIsTheApisWithItsStateInWords() throws Exception {
    open("#/usage?range=1d&groupBy=tenant", "usage");
    JsonObject report = shownRange(browser.findElement(By.id("usage-table")), "tenant", READ_KEY);
    List<String> budgeted = new java.util.ArrayList<>();
    String month = null;
    for (int i = 0; i < report.getJsonArray("groups").size(); i++) {
      JsonObject g = report.getJsonArray("groups").getJsonObject(i);
      String tenant = g.getString("key");
      JsonObject b = g.getJsonObject("budget");
      if (b == null) {
        assertTrue(budgetRows(tenant).isEmpty(), tenant + " has no budget, so no row");
        continue;
      }
      budgeted.add(tenant);
      month = b.getString("month");
      assertBudgetRow(tenant, "cost", b.getJsonObject("cost"), "usd");
      if (b.getJsonObject("energy") == null) {
        assertEquals(1, budgetRows(tenant).size(), tenant + ": no kWh budget, no energy row");
      } else {
        assertBudgetRow(tenant, "energy", b.getJsonObject("energy"), "kwh");
      }
    }
    assertEquals(List.of("acme", "globex"), budgeted, "the budgets file's tenants");
    String note = browser.findElement(By.cssSelector("#usage-budgets p")).getText();
    assertTrue(note.startsWith("Month to date of " + month + " (calendar month in UTC)"), note);
    // Grouped otherwise, the page says where budget status is instead of showing none.
    open("#/usage?range=1d&groupBy=model", "usage");
    assertFalse(browser.findElement(By.id("budget-table")).isDisplayed());
    browser.findElement(By.linkText("group by tenant")).click();
    await()
        .atMost(WAIT)
        .ignoreExceptions()
        .until(() -> budgetRows("acme").size() == 2 && budgetRows("globex").size() == 1);
  }

  @Test
  @Order(6)
  void theFocusDownloadIsTheApisExportOfTheRangesWholeHours() throws Exception {
    open("#/usage?range=1h&groupBy=tenant", "usage");
    WebElement table = browser.findElement(By.id("usage-table"));
    Instant from = Instant.parse(table.getAttribute("data-from"));
    Instant to = Instant.parse(table.getAttribute("data-to"));
    Instant hourFrom = from.truncatedTo(ChronoUnit.HOURS);
    Instant hourTo = to.truncatedTo(ChronoUnit.HOURS);
    if (hourTo.isBefore(to)) {
      hourTo = hourTo.plus(1, ChronoUnit.HOURS);
    }
    URI href = URI.create(browser.findElement(By.id("usage-focus")).getAttribute("href"));
    assertEquals("/api/v1/export/focus", href.getPath());
    assertEquals("from=" + hourFrom + "&to=" + hourTo, href.getQuery(), "rounded out to hours");
    String said = browser.findElement(By.id("usage-focus-range")).getText();
    assertTrue(said.startsWith("FOCUS export: whole hours, "), said);
    assertEquals(
        !from.equals(hourFrom) || !to.equals(hourTo),
        said.contains("rounded out to the hour"),
        said);
    DateTimeFormatter name =
        DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);
    Path file =
        DOWNLOADS.resolve("focus-" + name.format(hourFrom) + "-" + name.format(hourTo) + ".csv");
    Files.deleteIfExists(file);
    browser.findElement(By.id("usage-focus")).click();
    await().atMost(WAIT).until(() -> Files.exists(file) && Files.size(file) > 0);
    HttpResponse<String> api = get(href.getRawPath() + "?" + href.getRawQuery(), READ_KEY);
    assertEquals(200, api.statusCode(), api.body());
    List<String> rows = List.of(api.body().split("\r\n"));
    assertTrue(rows.size() > 1, "the run's hour has records: " + api.body());
    assertEquals(api.body(), Files.readString(file), "the saved file is the API's export");
  }

  @Test
  @Order(7)
  void pipelinePageShowsReadinessAndThisProcessorsTotals() throws Exception {
    open("#/pipeline", "pipeline");
    JsonObject totals = api("/api/v1/pipeline", READ_KEY).getJsonObject("totals");
    assertEquals(stored, totals.getLong("stored"), "the run's stored events: " + totals);
    assertEquals("ready", cardValue("Readiness"));
    assertTrue(
        cardNote("Stored").startsWith(count(totals.getLong("stored")) + " in total"),
        cardNote("Stored"));
    assertTrue(
        cardNote("Produced").startsWith(count(totals.getLong("produced")) + " in total"),
        "a standalone produces: " + cardNote("Produced"));
    List<String> checks =
        browser.findElements(By.cssSelector("#pipeline-checks tbody th")).stream()
            .map(WebElement::getText)
            .collect(Collectors.toList());
    assertTrue(checks.containsAll(List.of("kafka", "mongo")), checks.toString());
    screenshots("pipeline");
  }

  @Test
  @Order(8)
  void onAPhoneNothingOverflowsThePageSideways() throws Exception {
    browser.manage().window().setSize(new Dimension(390, 844));
    try {
      for (String page : List.of("fleet", "usage")) {
        open("#/" + page, page);
        long overflow =
            (Long)
                ((JavascriptExecutor) browser)
                    .executeScript(
                        "return document.documentElement.scrollWidth - window.innerWidth;");
        assertTrue(overflow <= 0, page + " is " + overflow + " px wider than the phone");
        Files.write(SHOTS.resolve(page + "-phone.png"), browser.getScreenshotAs(OutputType.BYTES));
      }
    } finally {
      browser.manage().window().setSize(new Dimension(1400, 1000));
    }
  }

  @Test
  @Order(9)
  void aTenantKeySeesOnlyItsOwnUsage() throws Exception {
    browser.findElement(By.id("signout")).click();
    await().atMost(WAIT).until(() -> browser.findElement(By.id("login")).isDisplayed());
    logIn(TENANT_KEY);
    open("#/fleet", "usage");
    assertTrue(browser.getCurrentUrl().contains("#/usage"), "redirected to the usage page");
    List<String> pages =
        browser.findElements(By.cssSelector("#nav li")).stream()
            .filter(WebElement::isDisplayed)
            .map(WebElement::getText)
            .toList();
    assertEquals(List.of("Usage & cost"), pages);
    WebElement table = browser.findElement(By.id("usage-table"));
    JsonObject report = shownRange(table, table.getAttribute("data-group-by"), TENANT_KEY);
    assertEquals("acme", report.getString("tenant"));
    List<String> total = cells(table.findElement(By.cssSelector("tfoot tr.total")));
    assertEquals("Total (tenant acme)", total.get(0));
    assertEquals(count(report.getJsonObject("totals").getDouble("requests")), total.get(4));
    assertFalse(
        browser.findElements(By.cssSelector("tfoot tr.idle")).stream()
            .anyMatch(WebElement::isDisplayed),
        "no idle line: that is the fleet's");
    assertBudgetRow("acme", "cost", report.getJsonObject("budget").getJsonObject("cost"), "usd");
    assertEquals(
        List.of("acme"),
        budgetRows(null).stream().map(r -> r.getAttribute("data-tenant")).distinct().toList());
  }

  @Test
  @Order(10)
  void theJarKeptServingUntilStoppedThenExitsOnSigterm() throws Exception {
    browser.get("about:blank"); // no page left asking a stopped server
    assertTrue(jar.alive(), "serving since the run completed:\n" + jar.output());
    jar.terminate();
    int rc = jar.waitFor(60);
    assertTrue(List.of(0, 143).contains(rc), "exit " + rc + ":\n" + jar.output());
  }

  // --- helpers ---

  /** The budget table's rows of a tenant (null: all). */
  private static List<WebElement> budgetRows(String tenant) {
    return browser.findElements(
        By.cssSelector(
            "#budget-table tbody tr" + (tenant == null ? "" : "[data-tenant='" + tenant + "']")));
  }

  /**
   * A budget row against the API's object: the limit and the use as the API has them; the forecast,
   * which moves with the clock (use carried over the elapsed part of the month), within 0.1 %; each
   * percentage with its state in words (80 % and 100 %, the alerts' thresholds).
   */
  private static void assertBudgetRow(String tenant, String kind, JsonObject k, String unit) {
    WebElement row =
        browser.findElement(
            By.cssSelector(
                "#budget-table tr[data-tenant='" + tenant + "'][data-kind='" + kind + "']"));
    List<String> c = cells(row);
    String what = tenant + " " + kind + ": " + c;
    assertEquals(tenant, c.get(0));
    assertEquals(kind.equals("cost") ? "Cost" : "Energy", c.get(1), what);
    List<WebElement> td = row.findElements(By.tagName("td"));
    Double forecast = k.getDouble("forecast_ratio");
    if (unit.equals("usd")) {
      assertMoney(k.getDouble("limit_usd"), c.get(2), what);
      assertMoney(k.getDouble("used_usd"), c.get(3), what);
      if (forecast != null) {
        assertNear(k.getDouble("forecast_usd"), c.get(5).replace("$", ""), what);
      }
    } else {
      assertEquals(sig4(k.getDouble("limit_kwh")) + " kWh", c.get(2), what);
      assertEquals(sig4(k.getDouble("used_kwh")) + " kWh", c.get(3), what);
      if (forecast != null) {
        assertNear(k.getDouble("forecast_kwh"), c.get(5).replace(" kWh", ""), what);
      }
    }
    double used = k.getDouble("used_ratio");
    assertEquals(sig4(used * 100) + " % " + state(used)[1], c.get(4), what);
    assertEquals(state(used)[0], td.get(3).getAttribute("data-state"), what);
    if (forecast == null) {
      // The month's first day: too little of it to carry to its end.
      assertEquals(List.of("—", "—"), c.subList(5, 7), what);
      return;
    }
    assertNear(forecast * 100, c.get(6).substring(0, c.get(6).indexOf(" %")), what);
    assertTrue(c.get(6).endsWith(" % " + state(forecast)[1]), what);
    assertEquals(state(forecast)[0], td.get(5).getAttribute("data-state"), what);
  }

  /** The state a budget ratio is in, and how the page says it. */
  private static String[] state(double ratio) {
    return ratio >= 1
        ? new String[] {"over", "✕ over budget"}
        : ratio >= 0.8
            ? new String[] {"near", "▲ 80 % or more"}
            : new String[] {"ok", "✓ under 80 %"};
  }

  private static void assertNear(double api, String shown, String what) {
    double v = Double.parseDouble(shown.replace(",", "").strip());
    assertEquals(api, v, Math.abs(api) * 2e-3, what + ": page " + shown + ", API " + api);
  }

  /** Four significant digits, as the page's Intl format gives them. */
  private static String sig4(double v) {
    BigDecimal b = new BigDecimal(v).round(new MathContext(4, RoundingMode.HALF_UP));
    return decimals(b.doubleValue(), Math.max(0, b.scale()));
  }

  private static void logIn(String key) {
    await().atMost(WAIT).until(() -> browser.findElement(By.id("key")).isDisplayed());
    browser.findElement(By.id("key")).sendKeys(key);
    browser.findElement(By.cssSelector("#login-form button")).click();
    await().atMost(WAIT).until(() -> !browser.findElement(By.id("login")).isDisplayed());
  }

  /** Opens a page by its hash and waits until its first refresh has rendered. */
  private static void open(String hash, String page) {
    // A hash change does not reload the page: forget the last page's readiness first.
    ((JavascriptExecutor) browser)
        .executeScript("delete document.getElementById('main').dataset.ready;");
    browser.get(console + hash);
    await()
        .atMost(WAIT)
        .ignoreExceptions()
        .until(() -> page.equals(browser.findElement(By.id("main")).getAttribute("data-ready")));
  }

  /** Light, then dark through the theme toggle, then back: one screenshot each. */
  private static void screenshots(String page) throws Exception {
    for (String theme : List.of("light", "dark")) {
      if (!theme.equals(browser.findElement(By.tagName("html")).getAttribute("data-theme"))) {
        browser.findElement(By.id("theme")).click();
      }
      assertEquals(theme, browser.findElement(By.tagName("html")).getAttribute("data-theme"));
      Files.write(
          SHOTS.resolve(page + "-" + theme + ".png"), browser.getScreenshotAs(OutputType.BYTES));
    }
    browser.findElement(By.id("theme")).click();
  }

  private static List<String> cells(WebElement row) {
    return row.findElements(By.xpath("./th|./td")).stream().map(WebElement::getText).toList();
  }

  private static String cardValue(String label) {
    WebElement dd =
        browser.findElement(
            By.xpath("//div[@class='card'][dt[normalize-space()='" + label + "']]/dd"));
    String all = dd.getText();
    List<WebElement> small = dd.findElements(By.tagName("small"));
    return small.isEmpty() ? all : all.substring(0, all.indexOf(small.get(0).getText())).strip();
  }

  private static String cardNote(String label) {
    return browser
        .findElement(
            By.xpath("//div[@class='card'][dt[normalize-space()='" + label + "']]/dd/small"))
        .getText();
  }

  /** The usage API for the range, step and grouping a page's table states it shows. */
  private static JsonObject shownRange(WebElement table, String groupBy, String key)
      throws Exception {
    String step = table.getAttribute("data-step");
    return api(
        "/api/v1/usage?from="
            + table.getAttribute("data-from")
            + "&to="
            + table.getAttribute("data-to")
            + "&groupBy="
            + groupBy
            + "&step="
            + new BigDecimal(step).stripTrailingZeros().toPlainString()
            + "s",
        key);
  }

  private static JsonObject api(String path, String key) throws Exception {
    HttpResponse<String> r = get(path, key);
    assertEquals(200, r.statusCode(), r.body());
    return new JsonObject(r.body());
  }

  private static HttpResponse<String> get(String path, String key) throws Exception {
    return HTTP_CLIENT.send(
        HttpRequest.newBuilder(URI.create(base + path))
            .header("Authorization", "Bearer " + key)
            .timeout(Duration.ofSeconds(30))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** The usage API over the last hour and the next (a tenant key's answer carries its budget). */
  private static JsonObject lastHour(String key) throws Exception {
    Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);
    return api(
        "/api/v1/usage?from="
            + enc(now.minus(1, ChronoUnit.HOURS))
            + "&to="
            + enc(now.plus(1, ChronoUnit.HOURS)),
        key);
  }

  /**
   * The value as the page shows dollars: cents from $1, else four significant digits; the shown
   * text must be the API's value rounded to the digits shown.
   */
  private static void assertMoney(double api, String shown, String what) {
    assertTrue(shown.startsWith("$"), what + ": " + shown);
    String digits = shown.substring(1).replace(",", "").strip();
    BigDecimal value = new BigDecimal(digits);
    BigDecimal expected = new BigDecimal(api).setScale(value.scale(), RoundingMode.HALF_UP);
    assertEquals(expected, value, what + ": page " + shown + ", API " + api);
    if (Math.abs(api) < 1) {
      assertEquals(
          new BigDecimal(api).round(new MathContext(4, RoundingMode.HALF_UP)).stripTrailingZeros(),
          value.stripTrailingZeros(),
          what + ": four significant digits");
    }
  }

  /** Digits as the page's Intl formats give them: grouped, at most {@code d} decimals. */
  private static String decimals(double v, int d) {
    BigDecimal b = new BigDecimal(v).setScale(d, RoundingMode.HALF_UP).stripTrailingZeros();
    java.text.DecimalFormat f =
        new java.text.DecimalFormat(
            d == 0 ? "#,##0" : "#,##0." + "#".repeat(d),
            java.text.DecimalFormatSymbols.getInstance(java.util.Locale.US));
    return f.format(b);
  }

  /** Milliseconds as the page shows them: four significant digits, in s from a second. */
  private static String millis(double ms) {
    boolean seconds = Math.abs(ms) >= 1000;
    BigDecimal b =
        new BigDecimal(seconds ? ms / 1000 : ms).round(new MathContext(4, RoundingMode.HALF_UP));
    return decimals(b.doubleValue(), 3) + (seconds ? " s" : " ms");
  }

  /** A count as the page shows it: exact below 10,000, else four significant digits and k/M/G. */
  private static String count(double v) {
    if (Math.abs(v) < 10_000) {
      return decimals(v, 0);
    }
    String[] suffix = {"T", "G", "M", "k"};
    double[] div = {1e12, 1e9, 1e6, 1e3};
    for (int i = 0; i < div.length; i++) {
      if (Math.abs(v) >= div[i]) {
        BigDecimal b = new BigDecimal(v / div[i]).round(new MathContext(4, RoundingMode.HALF_UP));
        return decimals(b.doubleValue(), 3) + " " + suffix[i];
      }
    }
    throw new AssertionError(v);
  }

  private static String enc(Instant t) {
    return URLEncoder.encode(t.toString(), StandardCharsets.UTF_8);
  }

  private static String sha256(String key) throws Exception {
    return HexFormat.of()
        .formatHex(
            MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8)));
  }
}
