package io.gputelemetry.support;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.abort;

import java.io.File;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * An external program a test runs. When it is missing, the test fails with the program's name and
 * install command where the environment variable {@code CI} is set (a CI machine that lacks a tool
 * must not pass by skipping), and is skipped with a warning on the build's console otherwise.
 */
public final class RequiredTool {
  private RequiredTool() {}

  /** The executable of that name on the PATH, or null. */
  public static Path onPath(String binary) {
    String path = System.getenv("PATH");
    if (path == null) {
      return null;
    }
    for (String dir : path.split(File.pathSeparator)) {
      Path p = Path.of(dir.isEmpty() ? "." : dir, binary);
      if (Files.isExecutable(p)) {
        return p;
      }
    }
    return null;
  }

  /**
   * The executable of that name on the PATH; when missing, fails (CI set) or skips the test with a
   * warning, naming the tool and how to install it.
   */
  public static Path require(String binary, String install) {
    Path p = onPath(binary);
    if (p == null) {
      missing(binary, install, System.getenv("CI"));
    }
    return p;
  }

  /**
   * The executable of that name on the PATH; when missing, skips the test with a warning naming the
   * tool and how to install it, CI or not: for a tool the test command cannot install.
   */
  public static Path optional(String binary, String install) {
    Path p = onPath(binary);
    if (p == null) {
      missing(binary, install + " (the test command cannot install it)", null);
    }
    return p;
  }

  /** Fails when {@code ci} is set (non-empty), otherwise warns and skips. */
  static void missing(String binary, String install, String ci) {
    String message = binary + " is not on the PATH; install it with: " + install;
    if (ci != null && !ci.isEmpty()) {
      fail(message + " (CI is set: a missing tool fails the build)");
    }
    // The build redirects tests' own output to files: the warning goes to the process's real
    // standard error, which Maven shows.
    @SuppressWarnings("resource") // the process's standard error stays open
    PrintStream console =
        new PrintStream(new FileOutputStream(FileDescriptor.err), true, StandardCharsets.UTF_8);
    console.println("WARNING: test skipped: " + message);
    abort(message);
  }
}
