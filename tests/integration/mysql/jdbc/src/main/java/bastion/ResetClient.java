package bastion;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

import org.mariadb.jdbc.MariaDbPoolDataSource;

/**
 * How connection pools reset a reused connection, through the bastion; prints
 * {@code key=value} lines that tests/integration/mysql/test_jdbc.py asserts on.
 *
 * <p>Usage: {@code ResetClient MODE URL USER TOKEN [TOKEN2 USER3 TOKEN3]}.
 * <ul>
 * <li>{@code mariadb-pool}: MariaDB Connector/J's own pool ({@link MariaDbPoolDataSource},
 * one connection, the URL with {@code useResetConnection}); a connection closed by the
 * application goes back to the pool, which resets it ({@code Connection.reset()}:
 * COM_RESET_CONNECTION) before the next borrower gets it. Three borrows.</li>
 * <li>{@code mysql-change-user}: MySQL Connector/J's {@code JdbcConnection.changeUser}
 * (COM_CHANGE_USER) with TOKEN2 for USER, then with TOKEN3 for USER3, then with a wrong
 * token.</li>
 * </ul>
 * Each step prints the upstream CONNECTION_ID(), CURRENT_USER(), @marker (set in the step
 * before: NULL proves the reset) and the error code of a statement the bastion blocks.
 */
public final class ResetClient {
    private static final String BLOCKED = "DROP TABLE shop.customers";

    private ResetClient() {}

    public static void main(String[] args) throws Exception {
        switch (args[0]) {
            case "mariadb-pool" -> mariadbPool(args[1], args[2], args[3]);
            case "mysql-change-user" -> mysqlChangeUser(args[1], args[2], args[3], args[4], args[5], args[6]);
            default -> throw new IllegalArgumentException("unknown mode " + args[0]);
        }
        out("done", "yes");
    }

    private static void mariadbPool(String url, String user, String token) throws SQLException {
        try (MariaDbPoolDataSource pool = new MariaDbPoolDataSource(url)) {
            pool.setUser(user);
            pool.setPassword(token);
            for (int borrow = 0; borrow < 3; borrow++) {
                try (Connection c = pool.getConnection()) {
                    step("borrow" + borrow, c);
                }  // back to the pool: reset there
            }
        }
    }

    private static void mysqlChangeUser(String url, String user, String token, String token2, String user3,
                                        String token3) throws SQLException {
        try (Connection c = DriverManager.getConnection(url, user, token)) {
            com.mysql.cj.jdbc.JdbcConnection mysql = c.unwrap(com.mysql.cj.jdbc.JdbcConnection.class);
            step("login", c);
            mysql.changeUser(user, token2);
            step("same", c);
            mysql.changeUser(user3, token3);
            step("other", c);
            try {
                mysql.changeUser(user, token + "x");
                out("wrong.code", "none");
            } catch (SQLException e) {
                out("wrong.code", String.valueOf(e.getErrorCode()));
            }
            try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT 1")) {
                rs.next();
                out("wrong.after", "usable");
            } catch (SQLException e) {
                out("wrong.after", "closed");
            }
        }
    }

    private static void step(String name, Connection c) throws SQLException {
        try (Statement st = c.createStatement()) {
            try (ResultSet rs = st.executeQuery("SELECT CONNECTION_ID(), CURRENT_USER(), @marker")) {
                rs.next();
                out(name + ".thread", rs.getString(1));
                out(name + ".user", rs.getString(2));
                out(name + ".marker", String.valueOf(rs.getString(3)));
            }
            st.execute("SET @marker = '" + name + "'");
            try {
                st.execute(BLOCKED);
                out(name + ".blocked", "ran");
            } catch (SQLException e) {
                out(name + ".blocked", String.valueOf(e.getErrorCode()));
            }
        }
    }

    private static void out(String key, String value) {
        System.out.println(key + "=" + value.replace('\n', ' '));
    }
}
