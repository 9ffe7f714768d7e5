//! Conversions between the public [`crate::commerce`] records and the generated WIT types.

use crate::bindings::airlock::connector::types as wit;
use crate::commerce::{
    Address, Customer, FinancialStatus, FulfillmentStatus, InventoryLevel, LineItem, Money, Order,
};
use crate::grants::Scope;

impl From<Scope> for wit::Scope {
    fn from(scope: Scope) -> Self {
        match scope {
            Scope::OrdersRead => wit::Scope::OrdersRead,
            Scope::OrdersWrite => wit::Scope::OrdersWrite,
            Scope::CustomersRead => wit::Scope::CustomersRead,
            Scope::CustomersReadContact => wit::Scope::CustomersReadContact,
            Scope::InventoryRead => wit::Scope::InventoryRead,
            Scope::InventoryWrite => wit::Scope::InventoryWrite,
        }
    }
}

impl From<wit::Scope> for Scope {
    fn from(scope: wit::Scope) -> Self {
        match scope {
            wit::Scope::OrdersRead => Scope::OrdersRead,
            wit::Scope::OrdersWrite => Scope::OrdersWrite,
            wit::Scope::CustomersRead => Scope::CustomersRead,
            wit::Scope::CustomersReadContact => Scope::CustomersReadContact,
            wit::Scope::InventoryRead => Scope::InventoryRead,
            wit::Scope::InventoryWrite => Scope::InventoryWrite,
        }
    }
}

impl From<FinancialStatus> for wit::FinancialStatus {
    fn from(status: FinancialStatus) -> Self {
        match status {
            FinancialStatus::Pending => wit::FinancialStatus::Pending,
            FinancialStatus::Authorized => wit::FinancialStatus::Authorized,
            FinancialStatus::Paid => wit::FinancialStatus::Paid,
            FinancialStatus::Refunded => wit::FinancialStatus::Refunded,
            FinancialStatus::Voided => wit::FinancialStatus::Voided,
        }
    }
}

impl From<wit::FinancialStatus> for FinancialStatus {
    fn from(status: wit::FinancialStatus) -> Self {
        match status {
            wit::FinancialStatus::Pending => FinancialStatus::Pending,
            wit::FinancialStatus::Authorized => FinancialStatus::Authorized,
            wit::FinancialStatus::Paid => FinancialStatus::Paid,
            wit::FinancialStatus::Refunded => FinancialStatus::Refunded,
            wit::FinancialStatus::Voided => FinancialStatus::Voided,
        }
    }
}

impl From<FulfillmentStatus> for wit::FulfillmentStatus {
    fn from(status: FulfillmentStatus) -> Self {
        match status {
            FulfillmentStatus::Unfulfilled => wit::FulfillmentStatus::Unfulfilled,
            FulfillmentStatus::Partial => wit::FulfillmentStatus::Partial,
            FulfillmentStatus::Fulfilled => wit::FulfillmentStatus::Fulfilled,
            FulfillmentStatus::Cancelled => wit::FulfillmentStatus::Cancelled,
        }
    }
}

impl From<wit::FulfillmentStatus> for FulfillmentStatus {
    fn from(status: wit::FulfillmentStatus) -> Self {
        match status {
            wit::FulfillmentStatus::Unfulfilled => FulfillmentStatus::Unfulfilled,
            wit::FulfillmentStatus::Partial => FulfillmentStatus::Partial,
            wit::FulfillmentStatus::Fulfilled => FulfillmentStatus::Fulfilled,
            wit::FulfillmentStatus::Cancelled => FulfillmentStatus::Cancelled,
        }
    }
}

impl From<Money> for wit::Money {
    fn from(m: Money) -> Self {
        wit::Money {
            amount_minor: m.amount_minor,
            currency: m.currency,
        }
    }
}

impl From<LineItem> for wit::LineItem {
    fn from(item: LineItem) -> Self {
        wit::LineItem {
            sku: item.sku,
            title: item.title,
            quantity: item.quantity,
            unit_price: item.unit_price.into(),
        }
    }
}

impl From<Order> for wit::Order {
    fn from(o: Order) -> Self {
        wit::Order {
            id: o.id,
            number: o.number,
            customer_id: o.customer_id,
            financial_status: o.financial_status.into(),
            fulfillment_status: o.fulfillment_status.into(),
            total: o.total.into(),
            created_at: o.created_at,
            line_items: o.line_items.into_iter().map(Into::into).collect(),
        }
    }
}

impl From<Address> for wit::Address {
    fn from(a: Address) -> Self {
        wit::Address {
            line1: a.line1,
            line2: a.line2,
            city: a.city,
            region: a.region,
            postal_code: a.postal_code,
            country: a.country,
        }
    }
}

/// A customer as the plugin sees it: contact details only when `with_contact` (the
/// `customers:read-contact` scope) is true; otherwise they never cross into the sandbox.
pub(crate) fn customer(c: Customer, with_contact: bool) -> wit::Customer {
    let (name, email, phone, address) = if with_contact {
        (
            Some(c.contact.name),
            c.contact.email,
            c.contact.phone,
            c.contact.address.map(Into::into),
        )
    } else {
        (None, None, None, None)
    };
    wit::Customer {
        id: c.id,
        orders_count: c.orders_count,
        accepts_marketing: c.accepts_marketing,
        created_at: c.created_at,
        name,
        email,
        phone,
        address,
    }
}

impl From<InventoryLevel> for wit::InventoryLevel {
    fn from(l: InventoryLevel) -> Self {
        wit::InventoryLevel {
            sku: l.sku,
            title: l.title,
            available: l.available,
            updated_at: l.updated_at,
        }
    }
}
