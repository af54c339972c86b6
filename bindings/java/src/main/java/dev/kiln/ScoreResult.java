package dev.kiln;

import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * What scoring a batch gave back: every input row has either scores or a status and a reason.
 * Outputs are per-output arrays ({@code outputs()[j][i]} is output j of row i); a row that was
 * not scored holds NaN there. The arrays are returned as they are, not copied.
 */
public final class ScoreResult {
    private final List<String> outputNames;
    private final double[][] outputs;
    private final int[] status;
    private final int[] reason;
    private final Map<Integer, String> reasonSources;
    private final String reportJson;

    ScoreResult(List<String> outputNames, double[][] outputs, int[] status, int[] reason,
            Map<Integer, String> reasonSources, String reportJson) {
        this.outputNames = outputNames;
        this.outputs = outputs;
        this.status = status;
        this.reason = reason;
        this.reasonSources = reasonSources == null ? Collections.emptyMap() : reasonSources;
        this.reportJson = reportJson;
    }

    public int rows() {
        return status.length;
    }

    public List<String> outputNames() {
        return outputNames;
    }

    /** All outputs: {@code outputs()[j][i]} is output {@code j} of row {@code i}. */
    public double[][] outputs() {
        return outputs;
    }

    /** Output {@code j}, one value per row. */
    public double[] output(int j) {
        return outputs[j];
    }

    /** The output called {@code name}. */
    public double[] output(String name) {
        int j = outputNames.indexOf(name);
        if (j < 0) {
            throw new KilnException(KilnStatus.INVALID_ARGUMENT, "no output '" + name + "'; the model's outputs are "
                    + outputNames);
        }
        return outputs[j];
    }

    /** Output {@code j} of row {@code row}. */
    public double value(int row, int j) {
        return outputs[j][row];
    }

    /** Per-row status codes: 0 = scored, otherwise a {@link RowStatus} code. */
    public int[] status() {
        return status;
    }

    public RowStatus status(int row) {
        return RowStatus.ofCode(status[row]);
    }

    public boolean isScored(int row) {
        return status[row] == 0;
    }

    /** Rows that were not scored. */
    public int flaggedCount() {
        int n = 0;
        for (int s : status) {
            n += s != 0 ? 1 : 0;
        }
        return n;
    }

    /**
     * What is responsible for a flagged row: a schema column (e.g. {@code "province"}), a
     * pipeline step (e.g. {@code "step 1 (log1p of 'income')"}), or {@code "model"} when no input
     * or step is to blame (a row the model gives no score); {@code null} for a scored row, or
     * when reasons were not requested. The same names as the report's {@code reasons[].source}.
     */
    public String reasonSource(int row) {
        if (reason == null || status[row] == 0) {
            return null;
        }
        return reason[row] < 0 ? MODEL_SOURCE : reasonSources.get(reason[row]);
    }

    /** The source kiln names for a flagged row whose reason id is -1 (as in the report). */
    static final String MODEL_SOURCE = "model";

    /**
     * Why row {@code row} has no score, e.g. {@code "unknown_category: province"}; {@code null}
     * for a scored row.
     */
    public String reason(int row) {
        if (status[row] == 0) {
            return null;
        }
        RowStatus s = RowStatus.ofCode(status[row]);
        String what = s == null ? "status " + status[row] : s.stableName();
        String source = reasonSource(row);
        return source == null ? what : what + ": " + source;
    }

    /**
     * The batch report as JSON (rows, scored, flagged, reasons with counts, defaults applied),
     * or {@code null} when it was not requested.
     */
    public String reportJson() {
        return reportJson;
    }
}
