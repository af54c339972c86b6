package dev.kiln;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.util.Locale;

/**
 * Finds and loads {@code libkiln_jni.so}: from the system property {@code kiln.library.path} (the
 * file itself, or a directory holding it) when set, otherwise from the jar's
 * {@code native/<os>-<arch>/} resource, copied to a fresh temporary directory because the
 * dynamic linker can only load a file. Failures are {@link IllegalStateException}s, which
 * {@link KilnNative} turns into a {@link KilnException} with status {@code IO}.
 */
final class NativeLoader {
    static final String LIBRARY_PATH_PROPERTY = "kiln.library.path";
    static final String LIBRARY_FILE = "libkiln_jni.so";

    private NativeLoader() {}

    static void load() {
        String override = System.getProperty(LIBRARY_PATH_PROPERTY);
        if (override != null && !override.isEmpty()) {
            Path p = Paths.get(override);
            if (Files.isDirectory(p)) {
                p = p.resolve(LIBRARY_FILE);
            }
            if (!Files.isRegularFile(p)) {
                throw new IllegalStateException("-D" + LIBRARY_PATH_PROPERTY + "=" + override
                        + " names no file (expected " + LIBRARY_FILE + " or a directory holding it)");
            }
            System.load(p.toAbsolutePath().toString());
            return;
        }
        String platform = platform();
        String resource = "/native/" + platform + "/" + LIBRARY_FILE;
        try (InputStream in = NativeLoader.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("this kiln jar has no native library for " + platform
                        + " (looked for " + resource + "); build one and pass -D" + LIBRARY_PATH_PROPERTY + "=<path>");
            }
            Path dir = Files.createTempDirectory("kiln-jni-");
            Path lib = dir.resolve(LIBRARY_FILE);
            try {
                Files.copy(in, lib, StandardCopyOption.REPLACE_EXISTING);
                System.load(lib.toAbsolutePath().toString());
            } finally {
                // Once mapped, the file is no longer needed: Linux keeps the mapping alive, and
                // deleting now leaves nothing behind in /tmp even if the JVM is killed.
                Files.deleteIfExists(lib);
                Files.deleteIfExists(dir);
            }
        } catch (IOException e) {
            throw new IllegalStateException("extracting " + resource + " to a temporary directory: " + e);
        }
    }

    static String platform() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        String osName = os.contains("linux") ? "linux" : os.contains("mac") ? "macos" : os.replace(' ', '_');
        String archName = switch (arch) {
            case "amd64", "x86_64" -> "x86_64";
            case "aarch64", "arm64" -> "aarch64";
            default -> arch;
        };
        return osName + "-" + archName;
    }
}
