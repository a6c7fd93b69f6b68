package bastion;

import java.io.ByteArrayInputStream;
import java.math.BigDecimal;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;

/**
 * Drives one JDBC driver through the bastion and prints {@code key=value} lines that
 * tests/integration/mysql/test_jdbc.py asserts on.
 *
 * <p>Usage: {@code JdbcClient URL USER PASSWORD ROW_ID}. The URL selects the driver
 * (jdbc:mariadb: or jdbc:mysql:) and must ask for server-side prepared statements; ROW_ID
 * is the lab.jdbc_blobs row this run may write. Any exception ends the run with a stack
 * trace and exit code 1.
 */
public final class JdbcClient {
    private JdbcClient() {}

    public static void main(String[] args) throws Exception {
        String url = args[0];
        String user = args[1];
        String password = args[2];
        int rowId = Integer.parseInt(args[3]);
        try (Connection c = DriverManager.getConnection(url, user, password)) {
            out("driver", c.getMetaData().getDriverName() + " " + c.getMetaData().getDriverVersion());
            textProtocol(c);
            preparedNulls(c);
            multiRow(c);
            blobs(c, rowId);
            transaction(c, rowId);
            errors(c);
        }
        out("done", "yes");
    }

    private static void textProtocol(Connection c) throws SQLException {
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT name FROM shop.customers ORDER BY id")) {
            List<String> names = new ArrayList<>();
            while (rs.next()) {
                names.add(rs.getString(1));
            }
            out("text.names", String.join("|", names));
        }
    }

    private static void preparedNulls(Connection c) throws SQLException {
        String sql = "SELECT id, a, s, d, n, f, b, t FROM jdbc_types WHERE id >= ? ORDER BY id";
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int round = 0; round < 2; round++) {  // the second EXECUTE reuses the statement
                ps.setInt(1, 1);
                try (ResultSet rs = ps.executeQuery()) {
                    ResultSetMetaData md = rs.getMetaData();
                    List<String> rows = new ArrayList<>();
                    while (rs.next()) {
                        List<String> cells = new ArrayList<>();
                        for (int i = 1; i <= md.getColumnCount(); i++) {
                            Object v = rs.getObject(i);
                            if (v instanceof byte[] bytes) {
                                v = "0x" + HexFormat.of().formatHex(bytes);
                            } else if (v instanceof BigDecimal dec) {
                                v = dec.toPlainString();
                            } else if (v instanceof Timestamp ts) {  // the drivers differ: one style
                                v = ts.toLocalDateTime();
                            }
                            cells.add(rs.wasNull() ? "NULL" : String.valueOf(v));
                        }
                        rows.add(String.join(",", cells));
                    }
                    out("prepared.rows." + round, String.join(";", rows));
                }
            }
        }
    }

    private static void multiRow(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT seq, CONCAT('row-', seq) FROM seq_1_to_50000 WHERE seq > ? ORDER BY seq")) {
            ps.setLong(1, 10);
            long count = 0;
            long sum = 0;
            String last = "";
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    count++;
                    sum += rs.getLong(1);
                    last = rs.getString(2);
                }
            }
            out("multi.count", Long.toString(count));
            out("multi.sum", Long.toString(sum));
            out("multi.last", last);
        }
    }

    private static void blobs(Connection c, int rowId) throws Exception {
        byte[] data = new byte[3 * 1024 * 1024 + 17];
        new Random(rowId).nextBytes(data);
        String expected = sha256(data);
        out("blob.expected", expected);
        try (PreparedStatement ps = c.prepareStatement("REPLACE INTO jdbc_blobs (id, data) VALUES (?, ?)")) {
            ps.setInt(1, rowId);
            ps.setBytes(2, data);
            out("blob.bytes.updated", Integer.toString(ps.executeUpdate()));
            // A stream parameter: server-side prepared statements send it with COM_STMT_SEND_LONG_DATA.
            ps.setInt(1, rowId + 1);
            ps.setBinaryStream(2, new ByteArrayInputStream(data), data.length);
            out("blob.stream.updated", Integer.toString(ps.executeUpdate()));
        }
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT id, data, LENGTH(data) FROM jdbc_blobs WHERE id IN (?, ?) ORDER BY id")) {
            ps.setInt(1, rowId);
            ps.setInt(2, rowId + 1);
            List<String> got = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    got.add(rs.getInt(1) + ":" + rs.getLong(3) + ":" + sha256(rs.getBytes(2)));
                }
            }
            out("blob.back", String.join(";", got));
        }
    }

    private static void transaction(Connection c, int rowId) throws SQLException {
        c.setAutoCommit(false);
        try (PreparedStatement ins = c.prepareStatement("INSERT INTO jdbc_tx (id, v) VALUES (?, ?)");
             PreparedStatement count = c.prepareStatement("SELECT COUNT(*) FROM jdbc_tx WHERE id = ?")) {
            ins.setInt(1, rowId);
            ins.setString(2, "rolled back");
            ins.executeUpdate();
            c.rollback();
            count.setInt(1, rowId);
            try (ResultSet rs = count.executeQuery()) {
                rs.next();
                out("tx.after_rollback", Integer.toString(rs.getInt(1)));
            }
            ins.setInt(1, rowId);
            ins.setString(2, "committed");
            ins.executeUpdate();
            c.commit();
            try (ResultSet rs = count.executeQuery()) {
                rs.next();
                out("tx.after_commit", Integer.toString(rs.getInt(1)));
            }
        } finally {
            c.setAutoCommit(true);
        }
    }

    private static void errors(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT * FROM no_such_table WHERE id = ?")) {
            ps.setInt(1, 1);
            ps.executeQuery();
            out("error.code", "none");
        } catch (SQLException e) {
            out("error.code", Integer.toString(e.getErrorCode()));
        }
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT 'still usable'")) {
            rs.next();
            out("error.after", rs.getString(1));
        }
    }

    private static String sha256(byte[] data) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    }

    private static void out(String key, String value) {
        System.out.println(key + "=" + value);
    }
}
