package org.dubborecsys.example.catalog;

/** What kind of product it is. */
public enum Category {
    BOOKS, MUSIC, GAMES
}
