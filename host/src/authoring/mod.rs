//! What a connector author runs before there is an artifact: the WIT world a manifest allows
//! ([`wit`], `airlock wit`), a manifest attached to a component after checking its imports
//! ([`pack`], `airlock pack`), and a new project from the templates ([`new`], `airlock new`).
//! Nothing here touches an engine or a database.

pub mod new;
pub mod pack;
pub mod wit;
