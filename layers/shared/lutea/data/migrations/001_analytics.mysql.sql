-- Analytics schema, as the original's README-analytics.md script (utf8mb4, InnoDB), without its
-- DROP TABLE lines: a migration never destroys data. Datetimes are UTC.
CREATE TABLE IF NOT EXISTS EventType (
    code VARCHAR(50) NOT NULL,
    label VARCHAR(100) NOT NULL,
    category VARCHAR(20) NOT NULL,
    is_enabled BOOLEAN NOT NULL DEFAULT TRUE,
    PRIMARY KEY (code),
    INDEX idx_category (category)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS Session (
    session_id VARCHAR(36) NOT NULL,
    started_at DATETIME NOT NULL,
    ended_at DATETIME NULL,
    browser VARCHAR(50) NULL,
    device_type ENUM('mobile', 'desktop', 'tablet') NULL,
    is_login BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (session_id),
    INDEX idx_started_at (started_at),
    INDEX idx_is_login (is_login)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS UserEvent (
    event_id INT NOT NULL AUTO_INCREMENT,
    event_ts DATETIME NOT NULL,
    page_path VARCHAR(500) NULL,
    event_data JSON NULL,
    session_id_Session VARCHAR(36) NOT NULL,
    code_EventType VARCHAR(50) NOT NULL,
    PRIMARY KEY (event_id),
    INDEX idx_session_id (session_id_Session),
    INDEX idx_event_type (code_EventType),
    INDEX idx_event_ts (event_ts),
    INDEX idx_page_path (page_path),
    CONSTRAINT FK_UserEvent_session_id_Session
        FOREIGN KEY (session_id_Session) REFERENCES Session (session_id) ON DELETE CASCADE,
    CONSTRAINT FK_UserEvent_code_EventType
        FOREIGN KEY (code_EventType) REFERENCES EventType (code) ON DELETE RESTRICT
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

INSERT IGNORE INTO EventType (code, label, category, is_enabled) VALUES
    ('page_view', 'Vue de page', 'navigation', TRUE),
    ('page_exit', 'Sortie de page', 'navigation', TRUE),
    ('retreat_modal_opened', 'Modal retraite ouverte', 'retreats', TRUE),
    ('booking_funnel_started', 'Démarrage tunnel réservation', 'retreats', TRUE),
    ('booking_step_1', 'Étape 1 : Choix retraite', 'booking', TRUE),
    ('booking_step_2', 'Étape 2 : Choix date', 'booking', TRUE),
    ('booking_step_3', 'Étape 3 : Choix participants', 'booking', TRUE),
    ('booking_step_4', 'Étape 4 : Confirmation', 'booking', TRUE),
    ('booking_step_5', 'Étape 5 : Paiement', 'booking', TRUE),
    ('booking_abandoned', 'Réservation abandonnée', 'booking', TRUE),
    ('payment_button_clicked', 'Clic sur bouton paiement', 'payment', TRUE),
    ('payment_succeeded', 'Paiement réussi', 'payment', TRUE),
    ('payment_failed', 'Paiement échoué', 'payment', TRUE);
