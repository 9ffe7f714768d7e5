//! SQL implementation of [`CommerceData`]: every query is bound to the merchant of the call.

use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

use super::{Db, DbError};
use crate::commerce::{
    Address, CommerceData, Contact, Customer, DataError, FinancialStatus, FulfillmentStatus,
    InventoryLevel, LineItem, Money, Order, OrderQuery,
};
use crate::ids::MerchantId;
use crate::report::Event;
use crate::topics::Topic;

/// Orders, customers and stock kept in Airlock's own database.
#[derive(Debug, Clone)]
pub struct SqlCommerce {
    db: Db,
}

impl SqlCommerce {
    /// Serve commerce data from `db`.
    pub fn new(db: Db) -> Self {
        SqlCommerce { db }
    }
}

const ORDER_COLUMNS: &str = "id, number, customer_id, financial_status, fulfillment_status, currency, \
                             total_minor, created_at, line_items";

fn corrupt(what: &str) -> DataError {
    DataError(format!("stored {what} is not valid"))
}

fn order_from(row: &AnyRow) -> Result<Order, DataError> {
    let financial: String = row.try_get("financial_status")?;
    let fulfillment: String = row.try_get("fulfillment_status")?;
    let items: String = row.try_get("line_items")?;
    Ok(Order {
        id: row.try_get("id")?,
        number: row.try_get("number")?,
        customer_id: row.try_get("customer_id")?,
        financial_status: FinancialStatus::parse(&financial)
            .ok_or_else(|| corrupt("financial status"))?,
        fulfillment_status: FulfillmentStatus::parse(&fulfillment)
            .ok_or_else(|| corrupt("fulfillment status"))?,
        total: Money {
            amount_minor: row.try_get("total_minor")?,
            currency: row.try_get("currency")?,
        },
        created_at: row.try_get::<i64, _>("created_at")?.max(0) as u64,
        line_items: serde_json::from_str::<Vec<LineItem>>(&items)
            .map_err(|_| corrupt("line items"))?,
    })
}

fn level_from(row: &AnyRow) -> Result<InventoryLevel, DataError> {
    Ok(InventoryLevel {
        sku: row.try_get("sku")?,
        title: row.try_get("title")?,
        available: row.try_get("available")?,
        updated_at: row.try_get::<i64, _>("updated_at")?.max(0) as u64,
    })
}

#[async_trait::async_trait]
impl CommerceData for SqlCommerce {
    async fn order(&self, merchant: &MerchantId, id: &str) -> Result<Option<Order>, DataError> {
        let sql = format!("SELECT {ORDER_COLUMNS} FROM orders WHERE merchant_id = $1 AND id = $2");
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(merchant.as_str())
            .bind(id)
            .fetch_optional(&self.db.pool)
            .await?;
        row.as_ref().map(order_from).transpose()
    }

    async fn orders(
        &self,
        merchant: &MerchantId,
        query: &OrderQuery,
    ) -> Result<Vec<Order>, DataError> {
        // Unused filters bind as NULL and drop out, so one statement serves every query shape.
        let sql = format!(
            "SELECT {ORDER_COLUMNS} FROM orders WHERE merchant_id = $1 \
             AND ($2 IS NULL OR fulfillment_status = $2) AND ($3 IS NULL OR financial_status = $3) \
             AND ($4 IS NULL OR created_at >= $4) AND ($5 IS NULL OR created_at < $5) \
             ORDER BY created_at DESC, id LIMIT $6"
        );
        let to_i64 = |t: Option<u64>| t.map(|v| v.min(i64::MAX as u64) as i64);
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(merchant.as_str())
            .bind(query.fulfillment_status.map(FulfillmentStatus::as_str))
            .bind(query.financial_status.map(FinancialStatus::as_str))
            .bind(to_i64(query.created_after))
            .bind(to_i64(query.created_before))
            .bind(i64::from(query.limit))
            .fetch_all(&self.db.pool)
            .await?;
        rows.iter().map(order_from).collect()
    }

    async fn set_fulfillment_status(
        &self,
        merchant: &MerchantId,
        id: &str,
        status: FulfillmentStatus,
    ) -> Result<bool, DataError> {
        self.set_order_status(SET_FULFILLMENT, merchant, id, status.as_str())
            .await
    }

    async fn set_financial_status(
        &self,
        merchant: &MerchantId,
        id: &str,
        status: FinancialStatus,
    ) -> Result<bool, DataError> {
        self.set_order_status(SET_FINANCIAL, merchant, id, status.as_str())
            .await
    }

    async fn customer(
        &self,
        merchant: &MerchantId,
        id: &str,
    ) -> Result<Option<Customer>, DataError> {
        let row = sqlx::query(
            "SELECT id, orders_count, accepts_marketing, created_at, name, email, phone, address \
             FROM customers WHERE merchant_id = $1 AND id = $2",
        )
        .bind(merchant.as_str())
        .bind(id)
        .fetch_optional(&self.db.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let address: Option<String> = row.try_get("address")?;
        let address = address
            .map(|a| serde_json::from_str::<Address>(&a))
            .transpose()
            .map_err(|_| corrupt("address"))?;
        Ok(Some(Customer {
            id: row.try_get("id")?,
            orders_count: row
                .try_get::<i64, _>("orders_count")?
                .clamp(0, i64::from(u32::MAX)) as u32,
            accepts_marketing: row.try_get::<i64, _>("accepts_marketing")? != 0,
            created_at: row.try_get::<i64, _>("created_at")?.max(0) as u64,
            contact: Contact {
                name: row.try_get("name")?,
                email: row.try_get("email")?,
                phone: row.try_get("phone")?,
                address,
            },
        }))
    }

    async fn inventory_level(
        &self,
        merchant: &MerchantId,
        sku: &str,
    ) -> Result<Option<InventoryLevel>, DataError> {
        let row = sqlx::query(
            "SELECT sku, title, available, updated_at FROM inventory WHERE merchant_id = $1 AND sku = $2",
        )
        .bind(merchant.as_str())
        .bind(sku)
        .fetch_optional(&self.db.pool)
        .await?;
        row.as_ref().map(level_from).transpose()
    }

    async fn inventory_levels(
        &self,
        merchant: &MerchantId,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<InventoryLevel>, DataError> {
        let rows = sqlx::query(
            "SELECT sku, title, available, updated_at FROM inventory \
             WHERE merchant_id = $1 AND ($2 IS NULL OR sku > $2) ORDER BY sku LIMIT $3",
        )
        .bind(merchant.as_str())
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.db.pool)
        .await?;
        rows.iter().map(level_from).collect()
    }

    /// The change and its `inventory.changed` event commit together: a crash between them
    /// can neither lose the event nor announce a change that did not happen.
    async fn adjust_inventory(
        &self,
        merchant: &MerchantId,
        sku: &str,
        delta: i64,
    ) -> Result<bool, DataError> {
        let now = super::now_ms();
        let mut tx = self.db.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE inventory SET available = available + $1, updated_at = $2 WHERE merchant_id = $3 AND sku = $4",
        )
        .bind(delta)
        .bind(now)
        .bind(merchant.as_str())
        .bind(sku)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        if delta == 0 {
            // Nothing changed: nothing to announce.
            tx.commit().await?;
            return Ok(true);
        }
        let event = Event {
            id: format!("evt_{}", uuid::Uuid::new_v4().simple()),
            topic: Topic::InventoryChanged,
            subject_id: sku.to_owned(),
            occurred_at: now.max(0) as u64,
        };
        super::outbox::insert_event(&mut tx, merchant, &event)
            .await
            .map_err(|e| DataError(e.to_string()))?;
        tx.commit().await?;
        Ok(true)
    }
}

const SET_FULFILLMENT: &str =
    "UPDATE orders SET fulfillment_status = $1 WHERE merchant_id = $2 AND id = $3";
const SET_FINANCIAL: &str =
    "UPDATE orders SET financial_status = $1 WHERE merchant_id = $2 AND id = $3";

impl SqlCommerce {
    async fn set_order_status(
        &self,
        sql: &'static str,
        merchant: &MerchantId,
        id: &str,
        status: &str,
    ) -> Result<bool, DataError> {
        let done = sqlx::query(sql)
            .bind(status)
            .bind(merchant.as_str())
            .bind(id)
            .execute(&self.db.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }
}

/// Write commerce records directly: how the demo store and tests get their data. A platform
/// with its own [`CommerceData`] never needs this.
impl SqlCommerce {
    /// Insert or replace an order.
    pub async fn put_order(&self, merchant: &MerchantId, order: &Order) -> Result<(), DbError> {
        let items = serde_json::to_string(&order.line_items)
            .map_err(|e| DbError::Corrupt(e.to_string()))?;
        sqlx::query("DELETE FROM orders WHERE merchant_id = $1 AND id = $2")
            .bind(merchant.as_str())
            .bind(&order.id)
            .execute(&self.db.pool)
            .await
            .map_err(DbError::sql("write order"))?;
        let sql = format!(
            "INSERT INTO orders (merchant_id, {ORDER_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        );
        sqlx::query(AssertSqlSafe(sql))
            .bind(merchant.as_str())
            .bind(&order.id)
            .bind(&order.number)
            .bind(order.customer_id.as_deref())
            .bind(order.financial_status.as_str())
            .bind(order.fulfillment_status.as_str())
            .bind(&order.total.currency)
            .bind(order.total.amount_minor)
            .bind(order.created_at as i64)
            .bind(items)
            .execute(&self.db.pool)
            .await
            .map_err(DbError::sql("write order"))?;
        Ok(())
    }

    /// Insert or replace a customer.
    pub async fn put_customer(
        &self,
        merchant: &MerchantId,
        customer: &Customer,
    ) -> Result<(), DbError> {
        let address = customer
            .contact
            .address
            .as_ref()
            .map(serde_json::to_string)
            .transpose()
            .map_err(|e| DbError::Corrupt(e.to_string()))?;
        sqlx::query("DELETE FROM customers WHERE merchant_id = $1 AND id = $2")
            .bind(merchant.as_str())
            .bind(&customer.id)
            .execute(&self.db.pool)
            .await
            .map_err(DbError::sql("write customer"))?;
        sqlx::query(
            "INSERT INTO customers (merchant_id, id, orders_count, accepts_marketing, created_at, name, email, phone, address) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(merchant.as_str())
        .bind(&customer.id)
        .bind(i64::from(customer.orders_count))
        .bind(i64::from(customer.accepts_marketing))
        .bind(customer.created_at as i64)
        .bind(&customer.contact.name)
        .bind(customer.contact.email.as_deref())
        .bind(customer.contact.phone.as_deref())
        .bind(address)
        .execute(&self.db.pool)
        .await
        .map_err(DbError::sql("write customer"))?;
        Ok(())
    }

    /// Insert or replace a stock level.
    pub async fn put_inventory(
        &self,
        merchant: &MerchantId,
        level: &InventoryLevel,
    ) -> Result<(), DbError> {
        sqlx::query("DELETE FROM inventory WHERE merchant_id = $1 AND sku = $2")
            .bind(merchant.as_str())
            .bind(&level.sku)
            .execute(&self.db.pool)
            .await
            .map_err(DbError::sql("write inventory"))?;
        sqlx::query("INSERT INTO inventory (merchant_id, sku, title, available, updated_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(merchant.as_str())
            .bind(&level.sku)
            .bind(&level.title)
            .bind(level.available)
            .bind(level.updated_at as i64)
            .execute(&self.db.pool)
            .await
            .map_err(DbError::sql("write inventory"))?;
        Ok(())
    }
}
