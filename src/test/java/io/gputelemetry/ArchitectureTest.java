package io.gputelemetry;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.library.Architectures;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * The package table of docs/architecture.md, enforced: every package is in it, imports only what
 * its row allows, no cycles, and MongoDB is used only by the store.
 */
class ArchitectureTest {
  private static final String ROOT = "io.gputelemetry";
  private static final JavaClasses MAIN =
      new ClassFileImporter()
          .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
          .importPackages(ROOT);

  /** Package (relative to the root, "" for the root) to the packages it may import. */
  static Map<String, Set<String>> table() throws Exception {
    Map<String, Set<String>> rows = new LinkedHashMap<>();
    boolean inTable = false;
    for (String line :
        Files.readAllLines(Path.of("docs", "architecture.md"), StandardCharsets.UTF_8)) {
      if (line.startsWith("| package |")) {
        inTable = true;
        continue;
      }
      if (!inTable || line.startsWith("|---")) {
        continue;
      }
      if (!line.startsWith("|")) {
        break;
      }
      String[] cells = line.split("\\|", -1);
      String pkg = cells[1].trim().replace("`", "");
      Set<String> allowed = new TreeSet<>();
      for (String a : cells[3].split(",", -1)) {
        if (!a.isBlank()) {
          allowed.add(a.trim());
        }
      }
      rows.put(pkg.equals(ROOT) ? "" : pkg, allowed);
    }
    return rows;
  }

  private static String packageOf(JavaClass c) {
    String p = c.getPackageName();
    return p.equals(ROOT) ? "" : p.substring(ROOT.length() + 1).split("\\.", -1)[0];
  }

  @Test
  void everyPackageIsInTheTable() throws Exception {
    Set<String> packages = new TreeSet<>();
    MAIN.forEach(c -> packages.add(packageOf(c)));
    Set<String> missing = new TreeSet<>(packages);
    missing.removeAll(table().keySet());
    assertEquals(Set.of(), missing, "packages missing from docs/architecture.md");
    Set<String> stale = new TreeSet<>(table().keySet());
    stale.removeAll(packages);
    assertEquals(Set.of(), stale, "rows of docs/architecture.md with no package");
  }

  @Test
  void eachPackageImportsOnlyWhatTheTableAllows() throws Exception {
    Map<String, Set<String>> table = table();
    assertFalse(table.isEmpty(), "no package table found in docs/architecture.md");
    Architectures.LayeredArchitecture layers =
        Architectures.layeredArchitecture().consideringOnlyDependenciesInLayers();
    for (String pkg : table.keySet()) {
      layers = layers.layer(layer(pkg)).definedBy(pkg.isEmpty() ? ROOT : ROOT + "." + pkg + "..");
    }
    for (Map.Entry<String, Set<String>> row : table.entrySet()) {
      if (row.getValue().contains("all")) {
        continue;
      }
      List<String> allowed = new ArrayList<>();
      row.getValue().forEach(a -> allowed.add(layer(a)));
      layers =
          allowed.isEmpty()
              ? layers.whereLayer(layer(row.getKey())).mayNotAccessAnyLayer()
              : layers
                  .whereLayer(layer(row.getKey()))
                  .mayOnlyAccessLayers(allowed.toArray(String[]::new));
    }
    layers.withOptionalLayers(true).check(MAIN);
  }

  private static String layer(String pkg) {
    return pkg.isEmpty() ? "root" : pkg;
  }

  @Test
  void packagesHaveNoCycles() {
    slices().matching(ROOT + ".(*)..").should().beFreeOfCycles().check(MAIN);
  }

  @Test
  void onlyTheStoreUsesMongoDb() {
    noClasses()
        .that()
        .resideOutsideOfPackage(ROOT + ".store..")
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage("com.mongodb..", "org.bson..", "io.vertx.ext.mongo..")
        .because("the store is the one owner of MongoDB (docs/architecture.md)")
        .check(MAIN);
  }
}
