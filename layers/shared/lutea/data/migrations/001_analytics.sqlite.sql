-- The same schema for SQLite (local development, and Lambda without MYSQL_HOST). SQLite has no
-- ENUM, ENGINE or AUTO_INCREMENT: a CHECK, nothing, and INTEGER PRIMARY KEY stand in for them.
-- Text keys compare case-insensitively (COLLATE NOCASE), as under MySQL's utf8mb4_unicode_ci,
-- so that both backends group and match alike. Datetimes are UTC text 'YYYY-MM-DD HH:MM:SS'.
CREATE TABLE IF NOT EXISTS EventType (
    code VARCHAR(50) NOT NULL COLLATE NOCASE PRIMARY KEY,
    label VARCHAR(100) NOT NULL,
    category VARCHAR(20) NOT NULL COLLATE NOCASE,
    is_enabled BOOLEAN NOT NULL DEFAULT 1
);
CREATE INDEX IF NOT EXISTS idx_category ON EventType (category);

CREATE TABLE IF NOT EXISTS Session (
    session_id VARCHAR(36) NOT NULL COLLATE NOCASE PRIMARY KEY,
    started_at DATETIME NOT NULL,
    ended_at DATETIME NULL,
    browser VARCHAR(50) NULL COLLATE NOCASE,
    device_type VARCHAR(7) NULL CHECK (device_type IN ('mobile', 'desktop', 'tablet')),
    is_login BOOLEAN NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS idx_started_at ON Session (started_at);
CREATE INDEX IF NOT EXISTS idx_is_login ON Session (is_login);

CREATE TABLE IF NOT EXISTS UserEvent (
    event_id INTEGER PRIMARY KEY AUTOINCREMENT,
    event_ts DATETIME NOT NULL,
    page_path VARCHAR(500) NULL COLLATE NOCASE,
    event_data JSON NULL,
    session_id_Session VARCHAR(36) NOT NULL COLLATE NOCASE
        REFERENCES Session (session_id) ON DELETE CASCADE,
    code_EventType VARCHAR(50) NOT NULL COLLATE NOCASE
        REFERENCES EventType (code) ON DELETE RESTRICT
);
CREATE INDEX IF NOT EXISTS idx_session_id ON UserEvent (session_id_Session);
CREATE INDEX IF NOT EXISTS idx_event_type ON UserEvent (code_EventType);
CREATE INDEX IF NOT EXISTS idx_event_ts ON UserEvent (event_ts);
CREATE INDEX IF NOT EXISTS idx_page_path ON UserEvent (page_path);

INSERT OR IGNORE INTO EventType (code, label, category, is_enabled) VALUES
    ('page_view', 'Vue de page', 'navigation', 1),
    ('page_exit', 'Sortie de page', 'navigation', 1),
    ('retreat_modal_opened', 'Modal retraite ouverte', 'retreats', 1),
    ('booking_funnel_started', 'Démarrage tunnel réservation', 'retreats', 1),
    ('booking_step_1', 'Étape 1 : Choix retraite', 'booking', 1),
    ('booking_step_2', 'Étape 2 : Choix date', 'booking', 1),
    ('booking_step_3', 'Étape 3 : Choix participants', 'booking', 1),
    ('booking_step_4', 'Étape 4 : Confirmation', 'booking', 1),
    ('booking_step_5', 'Étape 5 : Paiement', 'booking', 1),
    ('booking_abandoned', 'Réservation abandonnée', 'booking', 1),
    ('payment_button_clicked', 'Clic sur bouton paiement', 'payment', 1),
    ('payment_succeeded', 'Paiement réussi', 'payment', 1),
    ('payment_failed', 'Paiement échoué', 'payment', 1);
